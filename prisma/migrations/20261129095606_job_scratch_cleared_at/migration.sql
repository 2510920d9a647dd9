-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "scratch_cleared_at" TIMESTAMPTZ(3);
