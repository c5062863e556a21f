-- 020_tenant_versions.sql: a number per tenant that moves with every change
-- to the tenant's rows, so a worker can tell that a read it answered before
-- would answer the same now (src/http/respcache.c).
--
-- tenant_versions.version grows by one in every transaction that inserts,
-- updates or deletes a row of the tenant in any table that carries a
-- tenant_id (and in tenants itself). The trigger is a deferred constraint
-- trigger: it runs at COMMIT, after every other lock of the transaction is
-- taken, so two writers of one tenant queue on the version row for the
-- length of a commit and never deadlock on it; and the new number becomes
-- visible in the same instant as the rows that moved it. Once per tenant and
-- transaction is enough: a transaction-local setting remembers the tenant
-- last moved (one setting, not one per tenant, so a long-lived session does
-- not collect them).
--
-- The workers may read their own tenant's row (row-level security) and
-- write none: the trigger function writes as its owner. A table added later
-- with a tenant_id needs the same trigger; t/api/test_kept.c fails
-- until it has it.
CREATE TABLE tenant_versions (
    tenant_id uuid PRIMARY KEY,
    version bigint NOT NULL
);
ALTER TABLE tenant_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_versions
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
REVOKE ALL ON tenant_versions FROM ironlayer_worker;
GRANT SELECT ON tenant_versions TO ironlayer_worker;

-- Moves p_tenant's version once in the calling transaction; runs as the
-- owner of the trigger function that calls it.
CREATE FUNCTION tenant_version_bump_one(p_tenant uuid) RETURNS void
    LANGUAGE plpgsql SET search_path = public, pg_temp
    AS $$
BEGIN
    IF p_tenant IS NULL OR current_setting('ironlayer.version_moved', true) = p_tenant::text THEN
        RETURN;
    END IF;
    PERFORM set_config('ironlayer.version_moved', p_tenant::text, true);
    INSERT INTO tenant_versions AS v (tenant_id, version) VALUES (p_tenant, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1;
END $$;
REVOKE ALL ON FUNCTION tenant_version_bump_one(uuid) FROM PUBLIC;

-- The trigger of every table with a tenant_id.
CREATE FUNCTION tenant_version_bump() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM tenant_version_bump_one(OLD.tenant_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
        PERFORM tenant_version_bump_one(NEW.tenant_id);
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION tenant_version_bump() FROM PUBLIC;

-- The trigger of tenants, whose key is id. A deleted tenant's row stays
-- (tenant ids are random and never come back).
CREATE FUNCTION tenant_version_bump_tenant() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    PERFORM tenant_version_bump_one(NEW.id);
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION tenant_version_bump_tenant() FROM PUBLIC;

CREATE CONSTRAINT TRIGGER tenant_version AFTER INSERT OR UPDATE ON tenants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tenant_version_bump_tenant();

DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'tenant_versions'
          AND EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        ORDER BY c.relname
    LOOP
        EXECUTE format('CREATE CONSTRAINT TRIGGER tenant_version AFTER INSERT OR UPDATE OR DELETE'
                       ' ON %I DEFERRABLE INITIALLY DEFERRED FOR EACH ROW'
                       ' EXECUTE FUNCTION tenant_version_bump()', t);
    END LOOP;
END $$;
