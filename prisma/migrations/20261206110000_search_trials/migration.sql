-- AlterTable
ALTER TABLE "trials" ADD COLUMN     "curves" JSONB,
ADD COLUMN     "cost_seconds" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "artifact_prefix" TEXT,
ADD COLUMN     "model_id" TEXT;
