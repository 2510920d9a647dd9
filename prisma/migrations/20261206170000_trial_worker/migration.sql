-- AlterTable
ALTER TABLE "trials" ADD COLUMN     "worker_id" TEXT;
