/**
 * One contender for the cluster lock, run as its own process by the lock tests:
 * `node --import tsx lock-racer.ts <lock file> <start file>`. Says READY once loaded, waits
 * for the start file, tries the lock, prints WON or LOST, and holds a won lock briefly.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock } from '../../src/engine/lock.js';

const [file = '', start = ''] = process.argv.slice(2);
console.log('READY');
while (!existsSync(start)) await sleep(1);
try {
  const lock = await acquireLock(file, `racer ${process.pid}`);
  console.log('WON');
  await sleep(500);
  await lock.release();
} catch (error) {
  console.log(`LOST ${(error as Error).name}`);
}
