import { defineConfig } from 'drizzle-kit';

// One migrations folder serves both drivers: postgres.js in production, PGlite in the embedded mode.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
});
