-- AlterTable
ALTER TABLE "deployments" ADD COLUMN "tuning" JSONB;
