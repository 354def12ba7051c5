/**
 * The pages' scripts and style sheet. The browser code (api/web/client/, TypeScript and Preact) is bundled by esbuild
 * in memory, once per process at its first request: no build step before `npm start`, nothing fetched, a few hundred
 * milliseconds. Chunks split off by dynamic imports (the password meter's dictionaries) get content-hashed names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Beside this module in the sources; compiled into dist/api/web/, the sources are read from the repository's layout. */
const WEB_DIR =
  [new URL('./', import.meta.url), new URL('../../../api/web/', import.meta.url)].map((url) => fileURLToPath(url)).find((dir) => existsSync(`${dir}client/main.tsx`)) ??
  fileURLToPath(new URL('./', import.meta.url));

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  /** Hashed names never change content: cached for a year; the rest is revalidated. */
  readonly immutable: boolean;
}

async function bundle(): Promise<Map<string, Asset>> {
  const result = await build({
    absWorkingDir: WEB_DIR,
    entryPoints: { main: 'client/main.tsx' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    outdir: 'out',
    chunkNames: 'chunks/[name]-[hash]',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.indexOf('/out/') + 5);
    assets.set(name, { body: Buffer.from(file.contents), contentType: 'text/javascript; charset=utf-8', immutable: name.startsWith('chunks/') });
  }
  return assets;
}

let assets: Promise<Map<string, Asset>> | undefined;
let styles: Asset | undefined;

/** The asset of that name (`main.js`, `styles.css`, `chunks/…`), bundled at the first call. */
export async function asset(name: string): Promise<Asset | undefined> {
  // The style sheet is a plain file: it does not wait for, nor fail with, the scripts' bundle.
  if (name === 'styles.css') {
    styles ??= { body: readFileSync(`${WEB_DIR}styles.css`), contentType: 'text/css; charset=utf-8', immutable: false };
    return styles;
  }
  assets ??= bundle().catch((err: unknown) => {
    assets = undefined;
    throw err;
  });
  return (await assets).get(name);
}
