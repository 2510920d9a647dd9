#!/usr/bin/env node
// Prisma's own migration differ, offline: the wasm build of the schema engine
// (@prisma/schema-engine-wasm, shipped with the devDependency @prisma/internals) driven through
// @prisma/adapter-pg, instead of the native schema-engine binary that cannot be downloaded here.
//
//   node prisma/tools/migration-diff.js                  SQL that would bring prisma/migrations up to
//                                                        schema.prisma; exit 0 when there is none, 2 otherwise
//   node prisma/tools/migration-diff.js --create <name>  write it as prisma/migrations/<UTC timestamp>_<name>/migration.sql
//   node prisma/tools/migration-diff.js --from-empty     the whole schema as SQL
//   --schema <file> diffs another schema file; MIGRATIONS_DIR=<dir> another migrations directory.
//
// Replaying the migrations needs a scratch ("shadow") database: it is created on the server of
// DATABASE_URL (default postgresql://root@127.0.0.1:5432) and dropped afterwards.
// Plain JavaScript on purpose: the engine's glue is an ES module that jest cannot load.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');
const { PrismaPg } = require('@prisma/adapter-pg');
const { bindMigrationAwareSqlAdapterFactory } = require('@prisma/driver-adapter-utils');

const ROOT = path.resolve(__dirname, '..', '..');
const MIGRATIONS = process.env.MIGRATIONS_DIR
  ? path.resolve(process.env.MIGRATIONS_DIR)
  : path.join(ROOT, 'prisma', 'migrations');
const FILTERS = { externalTables: [], externalEnums: [] };

function loadEngine() {
  const dir = path.join(path.dirname(require.resolve('@prisma/internals')), '..', '..', 'schema-engine-wasm');
  const candidates = [dir, path.join(ROOT, 'node_modules', '@prisma', 'schema-engine-wasm')];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'schema_engine_bg.wasm')));
  if (!found)
    throw new Error('@prisma/schema-engine-wasm not found; run npm ci (it comes with @prisma/internals)');
  const runtime = require(path.join(found, 'schema_engine_bg.js')); // ES module; Node >= 20.19 can require it
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(fs.readFileSync(path.join(found, 'schema_engine_bg.wasm'))),
    {
      './schema_engine_bg.js': runtime,
    },
  );
  runtime.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return runtime.SchemaEngine;
}

function pgConfig(url, database) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username) || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database,
  };
}

async function admin(serverUrl, sql) {
  const c = new Client(pgConfig(serverUrl, 'postgres'));
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

// adapter-pg splits scripts naively at every ';' (breaking DO $$ ... $$ blocks and comments) and
// its shadow database ignores `database` when given a connection string and is dropped while still
// connected; this factory sends scripts whole and manages the shadow database itself.
// Its result decoding also rejects the `"char"` catalog columns the engine reads when describing a
// database (pg_class.relkind etc.); they are plain text, so report them as such. (This process only.)
let patchedQueryable = false;
function decodeCharAsText(adapter) {
  if (patchedQueryable) return;
  const queryable = Object.getPrototypeOf(Object.getPrototypeOf(adapter));
  const performIO = queryable.performIO;
  queryable.performIO = async function (query) {
    const result = await performIO.call(this, query);
    for (const field of result.fields) if (field.dataTypeID === 18) field.dataTypeID = 25;
    return result;
  };
  patchedQueryable = true;
}

function adapterFactory(serverUrl) {
  const wholeScripts = (adapter) => {
    decodeCharAsText(adapter);
    adapter.executeScript = async (script) => {
      await adapter.underlyingDriver().query(script);
    };
    return adapter;
  };
  const main = new PrismaPg(pgConfig(serverUrl, 'postgres'));
  return bindMigrationAwareSqlAdapterFactory({
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => wholeScripts(await main.connect()),
    connectToShadowDb: async () => {
      const name = `ms_shadow_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
      await admin(serverUrl, `CREATE DATABASE "${name}"`);
      const adapter = wholeScripts(await new PrismaPg(pgConfig(serverUrl, name)).connect());
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await admin(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      };
      return adapter;
    },
  });
}

function migrationsList() {
  const dirs = fs
    .readdirSync(MIGRATIONS)
    .filter((d) => fs.statSync(path.join(MIGRATIONS, d)).isDirectory())
    .sort();
  const lock = path.join(MIGRATIONS, 'migration_lock.toml');
  return {
    baseDir: MIGRATIONS,
    lockfile: {
      path: 'migration_lock.toml',
      content: fs.existsSync(lock) ? fs.readFileSync(lock, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: dirs.map((d) => ({
      path: d,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok', value: fs.readFileSync(path.join(MIGRATIONS, d, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

function timestamp() {
  return new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

async function main() {
  const args = process.argv.slice(2);
  const createIdx = args.indexOf('--create');
  const createName = createIdx >= 0 ? args[createIdx + 1] : undefined;
  if (createIdx >= 0 && !/^[a-z0-9_]+$/.test(createName || ''))
    throw new Error('--create needs a snake_case name');
  const fromEmpty = args.includes('--from-empty');
  const serverUrl = process.env.DATABASE_URL || 'postgresql://root@127.0.0.1:5432/postgres';
  const schemaIdx = args.indexOf('--schema');
  const schemaPath =
    schemaIdx >= 0 ? path.resolve(args[schemaIdx + 1] || '') : path.join(ROOT, 'prisma', 'schema.prisma');
  const schema = fs.readFileSync(schemaPath, 'utf8');

  const SchemaEngine = loadEngine();
  const engine = await SchemaEngine.new(
    { datamodels: [['schema.prisma', schema]] },
    () => undefined,
    adapterFactory(serverUrl),
  );
  const from = fromEmpty ? { tag: 'empty' } : { tag: 'migrations', ...migrationsList() };
  const result = await engine.diff({
    from,
    to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] },
    script: true,
    exitCode: true,
    filters: FILTERS,
  });
  const sql = result.stdout || '';
  const empty = /^\s*(-- This is an empty migration\.)?\s*$/.test(sql);
  if (createName) {
    if (empty) {
      console.error('schema.prisma and prisma/migrations agree; no migration written');
      return 0;
    }
    const dir = path.join(MIGRATIONS, `${timestamp()}_${createName}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'migration.sql'), sql.endsWith('\n') ? sql : `${sql}\n`);
    console.error(
      `wrote ${path.relative(ROOT, dir)}/migration.sql (review it; add RLS for new tenant-owned tables)`,
    );
    return 0;
  }
  process.stdout.write(sql.endsWith('\n') || sql === '' ? sql : `${sql}\n`);
  return fromEmpty || empty ? 0 : 2;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`migration-diff failed: ${err && err.message ? err.message : String(err)}`);
    process.exit(1);
  },
);
