-- DropForeignKey
ALTER TABLE "dataset_versions" DROP CONSTRAINT "dataset_versions_dataset_id_fkey";

-- DropForeignKey
ALTER TABLE "deployments" DROP CONSTRAINT "deployments_model_id_fkey";

-- DropForeignKey
ALTER TABLE "job_events" DROP CONSTRAINT "job_events_job_id_fkey";

-- DropForeignKey
ALTER TABLE "trials" DROP CONSTRAINT "trials_job_id_fkey";

-- CreateIndex
CREATE UNIQUE INDEX "datasets_id_tenant_id_key" ON "datasets"("id", "tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "jobs_id_tenant_id_key" ON "jobs"("id", "tenant_id");

-- CreateIndex
CREATE UNIQUE INDEX "models_id_tenant_id_key" ON "models"("id", "tenant_id");

-- AddForeignKey
ALTER TABLE "dataset_versions" ADD CONSTRAINT "dataset_versions_dataset_id_tenant_id_fkey" FOREIGN KEY ("dataset_id", "tenant_id") REFERENCES "datasets"("id", "tenant_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_tenant_id_fkey" FOREIGN KEY ("job_id", "tenant_id") REFERENCES "jobs"("id", "tenant_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trials" ADD CONSTRAINT "trials_job_id_tenant_id_fkey" FOREIGN KEY ("job_id", "tenant_id") REFERENCES "jobs"("id", "tenant_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_model_id_tenant_id_fkey" FOREIGN KEY ("model_id", "tenant_id") REFERENCES "models"("id", "tenant_id") ON DELETE CASCADE ON UPDATE CASCADE;
