/**
 * A build lock shared by every process on the machine (a folder created with
 * mkdir, holding the owner's pid): two test runs that need the same kit build
 * it once. A lock whose owner has died is taken over.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether a process with this pid exists (EPERM means it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownerOf(lock: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(join(lock, 'pid'), 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` while holding the lock folder `lock`, waiting (and saying so once
 * through `log`) while another live process holds it.
 */
export async function withLock<T>(
  lock: string,
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  let announced = false;
  let ownerless = 0;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await ownerOf(lock);
    // A lock folder without a pid is being created; only a lasting one is stale.
    if (owner === undefined ? ++ownerless > 5 : !processAlive(owner)) {
      await rm(lock, { recursive: true, force: true });
      ownerless = 0;
      continue;
    }
    if (owner !== undefined && !announced) {
      log(`waiting for the build running in process ${owner} (${lock})`);
      announced = true;
    }
    await sleep(1000);
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
