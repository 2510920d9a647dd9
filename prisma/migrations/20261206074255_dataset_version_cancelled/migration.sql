-- AlterEnum
ALTER TYPE "dataset_version_status" ADD VALUE 'CANCELLED';
