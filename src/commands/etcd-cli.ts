import type { Command } from 'commander';
import { formatBackupList, takeBackup } from './backup.js';
import { becomePassword, confirm, globals, interruptSignal, progress } from './cli-helpers.js';
import { openCluster } from './context.js';
import { addEtcd, delEtcd } from './membership.js';
import { restoreCluster } from './restore.js';

/** A command's result on stdout: its lines, or one JSON line after the events with -o json. */
function result(cmd: Command, text: string): void {
  if (globals(cmd).output === 'json')
    process.stdout.write(`${JSON.stringify({ type: 'result', message: text })}\n`);
  else process.stdout.write(`${text}\n`);
}

/** backup, restore, add-etcd, del-etcd: each a playbook run by the engine (playbooks/<command>.yaml). */
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
      const backup = await takeBackup(opened, {
        note: options.note,
        becomePassword: await becomePassword(cmd),
        signal: interruptSignal(),
        display: progress(cmd),
      });
      const m = backup.manifest;
      result(
        cmd,
        `backup ${backup.name}: revision ${m.revision}, ${m.keyCount} keys, ${(m.snapshot.size / 1048576).toFixed(1)} MiB, from ${m.takenFrom}, in ${(backup.durationMs / 1000).toFixed(1)}s\n${backup.dir}`,
      );
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
        const members = opened.loaded.inventory.hosts
          .filter((h) => h.roles.includes('etcd'))
          .map((h) => h.name);
        const restored = await restoreCluster(opened, selector, {
          force: options.force ?? false,
          becomePassword: await becomePassword(cmd),
          signal: interruptSignal(),
          display: progress(cmd),
          approve: async (backup) => {
            const m = backup.manifest;
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
          },
        });
        result(
          cmd,
          `restored ${restored.backup.name}: revision ${restored.revision}, ${restored.keyCount} keys, all members healthy\nprevious data kept at:\n${restored.keptAside.map((k) => `  ${k}`).join('\n')}`,
        );
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
      await addEtcd(opened, hosts, {
        becomePassword: await becomePassword(cmd),
        signal: interruptSignal(),
        display: progress(cmd),
      });
      result(
        cmd,
        `etcd members now: ${opened.loaded.inventory.hosts
          .filter((h) => h.roles.includes('etcd'))
          .map((h) => h.name)
          .join(', ')}`,
      );
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
        const removed = await delEtcd(opened, hosts, {
          force: options.force,
          purge: options.purge,
          becomePassword: await becomePassword(cmd),
          signal: interruptSignal(),
          display: progress(cmd),
        });
        result(
          cmd,
          `removed ${hosts.join(', ')} from etcd; the previous inventory is at ${removed.inventoryBackup}`,
        );
      },
    );
}
