-- EVALUATE and EXPORT had no job definition: no row was ever written with them.
-- AlterEnum (the runner applies each migration in one transaction)
CREATE TYPE "job_kind_new" AS ENUM ('INGEST_DATASET', 'TRAIN', 'BATCH_PREDICT', 'NOOP');
ALTER TABLE "jobs" ALTER COLUMN "kind" TYPE "job_kind_new" USING ("kind"::text::"job_kind_new");
ALTER TYPE "job_kind" RENAME TO "job_kind_old";
ALTER TYPE "job_kind_new" RENAME TO "job_kind";
DROP TYPE "public"."job_kind_old";
