-- Row-level security: every tenant-owned table is visible only to the tenant named by the
-- transaction-local setting `app.tenant_id` (set by withTenant() in libs/db via
-- a transaction-local set_config of app.tenant_id). With no tenant set, nothing is visible.
--
-- The application connects as the non-superuser role `modelsmith_app` (see docs/database.md).
-- FORCE makes the policies apply to the owner of the tables too; only superusers and BYPASSRLS roles
-- (the deliberate "system" client used for migrations, operator and cross-tenant paths) bypass them.
--
-- Not a Prisma schema change: schema.prisma has no notion of roles or policies.

-- Application role. Created NOLOGIN; libs/db `ensureAppRole()` grants LOGIN with the configured
-- password at boot. Roles are cluster-wide, so creation tolerates an existing role (and a
-- concurrent creation by the migration of another database).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'modelsmith_app') THEN
        BEGIN
            CREATE ROLE "modelsmith_app" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO "modelsmith_app"', current_database());
    -- withTenant() also does a transaction-local SET ROLE modelsmith_app, so that a connection made
    -- as the owner is scoped too; the owner must be a member of the role for that.
    IF NOT pg_has_role(current_user, 'modelsmith_app', 'MEMBER') THEN
        EXECUTE format('GRANT "modelsmith_app" TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA "public" TO "modelsmith_app";

-- The tenant row itself: readable (own tenant only), never written, by the application role.
GRANT SELECT ON "tenants" TO "modelsmith_app";
ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "tenants" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "tenants"
    USING ("id" = current_setting('app.tenant_id', true))
    WITH CHECK ("id" = current_setting('app.tenant_id', true));

-- api_keys
GRANT SELECT, INSERT, UPDATE, DELETE ON "api_keys" TO "modelsmith_app";
ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "api_keys" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "api_keys"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- datasets
GRANT SELECT, INSERT, UPDATE, DELETE ON "datasets" TO "modelsmith_app";
ALTER TABLE "datasets" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "datasets" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "datasets"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- dataset_versions
GRANT SELECT, INSERT, UPDATE, DELETE ON "dataset_versions" TO "modelsmith_app";
ALTER TABLE "dataset_versions" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "dataset_versions" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "dataset_versions"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- uploads
GRANT SELECT, INSERT, UPDATE, DELETE ON "uploads" TO "modelsmith_app";
ALTER TABLE "uploads" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "uploads" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "uploads"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- jobs
GRANT SELECT, INSERT, UPDATE, DELETE ON "jobs" TO "modelsmith_app";
ALTER TABLE "jobs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "jobs" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "jobs"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- job_events
GRANT SELECT, INSERT, UPDATE, DELETE ON "job_events" TO "modelsmith_app";
ALTER TABLE "job_events" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "job_events" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "job_events"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- trials
GRANT SELECT, INSERT, UPDATE, DELETE ON "trials" TO "modelsmith_app";
ALTER TABLE "trials" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "trials" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "trials"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- models
GRANT SELECT, INSERT, UPDATE, DELETE ON "models" TO "modelsmith_app";
ALTER TABLE "models" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "models" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "models"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- deployments
GRANT SELECT, INSERT, UPDATE, DELETE ON "deployments" TO "modelsmith_app";
ALTER TABLE "deployments" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "deployments" FORCE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "deployments"
    USING ("tenant_id" = current_setting('app.tenant_id', true))
    WITH CHECK ("tenant_id" = current_setting('app.tenant_id', true));

-- job_events.id is a BIGSERIAL.
GRANT USAGE, SELECT ON SEQUENCE "job_events_id_seq" TO "modelsmith_app";
