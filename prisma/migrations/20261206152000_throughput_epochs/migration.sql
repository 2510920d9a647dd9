-- AlterTable
ALTER TABLE "training_throughput" ADD COLUMN "epochs_run" INTEGER,
ADD COLUMN "epochs_cap" INTEGER;
