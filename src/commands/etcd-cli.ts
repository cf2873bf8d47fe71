import type { Command } from 'commander';
import { acquireLock } from '../engine/lock.js';
import { formatBackupList, takeBackup } from './backup.js';
import { becomePassword, confirm, globals, interruptSignal, say } from './cli-helpers.js';
import { openCluster } from './context.js';
import { addEtcd, delEtcd } from './membership.js';
import { checkBackup, restoreCluster } from './restore.js';

/** backup, restore. */
export function registerEtcdCommands(program: Command): void {
  program
    .command('backup')
    .description(
      'snapshot etcd from a healthy member into clusters/<name>/backups/, with the PKI and inventory',
    )
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .option('--note <text>', 'a note stored with the backup')
    .option('--list', 'list the backups instead of taking one')
    .action(async (cluster: string | undefined, options: { note?: string; list?: boolean }, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      if (options.list) {
        process.stdout.write(`${await formatBackupList(opened)}\n`);
        return;
      }
      const lock = await acquireLock(opened.paths.lock, 'backup');
      try {
        const backup = await takeBackup(opened, {
          note: options.note,
          becomePassword: await becomePassword(cmd),
          signal: interruptSignal(),
          say,
        });
        const m = backup.manifest;
        process.stdout.write(
          `backup ${backup.name}: revision ${m.revision}, ${m.keyCount} keys, ${(m.snapshot.size / 1048576).toFixed(1)} MiB, from ${m.takenFrom}, in ${(backup.durationMs / 1000).toFixed(1)}s\n${backup.dir}\n`,
        );
      } finally {
        await lock.release();
      }
    });

  program
    .command('restore')
    .description('replace etcd data on every member with a backup (old data is kept aside)')
    .argument('[cluster]', 'cluster name (or use -i FILE)')
    .argument('[backup]', "a backup name from 'backup --list', or latest", 'latest')
    .option('--yes', 'do not ask for confirmation')
    .option('--force', 'restore even when the member count differs from the backup')
    .action(
      async (
        cluster: string | undefined,
        selector: string,
        options: { yes?: boolean; force?: boolean },
        cmd: Command,
      ) => {
        const opened = await openCluster(cluster, globals(cmd));
        // The lock first: no backup or restore may change the backups while this one is checked and used.
        const lock = await acquireLock(opened.paths.lock, `restore ${selector}`);
        try {
          const backup = await checkBackup(opened, selector, options.force ?? false);
          const m = backup.manifest;
          const members = opened.loaded.inventory.hosts
            .filter((h) => h.roles.includes('etcd'))
            .map((h) => h.name);
          process.stdout.write(
            [
              `restore plan for cluster ${m.cluster}:`,
              `  backup     ${backup.name} (${m.createdAt}, revision ${m.revision}, ${m.keyCount} keys${m.note ? `, note: ${m.note}` : ''})`,
              `  members    ${members.join(', ')}: etcd stopped, data replaced, old data kept aside`,
              '  apiservers stopped during the restore and started after it, where running',
              '  first      a safety snapshot of the current data, if the cluster answers',
              '',
            ].join('\n'),
          );
          if (!options.yes)
            await confirm(
              `this replaces etcd data on ${members.length} member(s). Type the cluster name (${m.cluster}) to go on: `,
              m.cluster,
            );
          const result = await restoreCluster(opened, {
            backup,
            becomePassword: await becomePassword(cmd),
            signal: interruptSignal(),
            say,
          });
          process.stdout.write(
            `restored ${backup.name}: revision ${result.revision}, ${result.keyCount} keys, all members healthy\nprevious data kept at:\n${result.keptAside.map((k) => `  ${k}`).join('\n')}\n`,
          );
        } finally {
          await lock.release();
        }
      },
    );

  program
    .command('add-etcd')
    .description(
      'add inventory etcd hosts that are not members yet, one at a time (give them the etcd role first)',
    )
    .argument('<cluster>', 'cluster name')
    .argument('<hosts...>', 'host names')
    .action(async (cluster: string, hosts: string[], _o, cmd: Command) => {
      const opened = await openCluster(cluster, globals(cmd));
      const lock = await acquireLock(opened.paths.lock, `add-etcd ${hosts.join(' ')}`);
      try {
        await addEtcd(opened, hosts, {
          becomePassword: await becomePassword(cmd),
          signal: interruptSignal(),
          say,
        });
        process.stdout.write(
          `etcd members now: ${opened.loaded.inventory.hosts
            .filter((h) => h.roles.includes('etcd'))
            .map((h) => h.name)
            .join(', ')}\n`,
        );
      } finally {
        await lock.release();
      }
    });

  program
    .command('del-etcd')
    .description('remove etcd members one at a time, refusing anything that would break quorum')
    .argument('<cluster>', 'cluster name')
    .argument('<hosts...>', 'host names')
    .option('--force', 'allow ending at an even member count')
    .option('--purge', "delete the removed members' data instead of keeping it aside")
    .option('--yes', 'do not ask for confirmation')
    .action(
      async (
        cluster: string,
        hosts: string[],
        options: { force?: boolean; purge?: boolean; yes?: boolean },
        cmd: Command,
      ) => {
        const opened = await openCluster(cluster, globals(cmd));
        process.stdout.write(
          `del-etcd plan: remove ${hosts.join(', ')} from etcd (snapshot first; data ${options.purge ? 'PURGED' : 'kept aside'}; inventory role removed, old inventory kept)\n`,
        );
        if (!options.yes) await confirm(`type the cluster name (${cluster}) to go on: `, cluster);
        const lock = await acquireLock(opened.paths.lock, `del-etcd ${hosts.join(' ')}`);
        try {
          await delEtcd(opened, hosts, {
            force: options.force,
            purge: options.purge,
            becomePassword: await becomePassword(cmd),
            signal: interruptSignal(),
            say,
          });
          process.stdout.write(`removed ${hosts.join(', ')} from etcd\n`);
        } finally {
          await lock.release();
        }
      },
    );
}
