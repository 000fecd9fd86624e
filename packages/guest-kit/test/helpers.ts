import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { GuestKitError } from '../src/error.js';

/** A fresh temporary folder for one test file, removed after it; read `.path` inside tests. */
export function useTempDir(prefix: string): { readonly path: string } {
  const dir = { path: '' };
  beforeAll(async () => {
    dir.path = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir.path, { recursive: true, force: true });
  });
  return dir;
}

/** The GuestKitError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function failure(promise: Promise<unknown>): Promise<GuestKitError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GuestKitError) return error;
    throw error;
  }
  throw new Error('expected a GuestKitError');
}
