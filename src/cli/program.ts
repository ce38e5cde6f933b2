import { Command } from 'commander';
import { serveSettingOptions } from './serveSettings.js';
import { apply, APPLY_BATCH, APPLY_WINDOW } from './apply.js';
import { clientsAdd, clientsList, clientsRevoke, clientsRotate } from './clients.js';
import { auditQuery, auditVerify, build, check, demo, DEMO_DIR, DEMO_SIZE, gc, gen, info, runtime, serve, snapshot } from './commands.js';

/**
 * The `idv` command line, defined once: commander parses it and writes `idv --help` and
 * `idv <command> --help` from these definitions (a test checks the synopsis in docs/operations.md
 * against them).
 */
const secretFile = (cmd: Command) => cmd.option('--secret-file <file>', 'the index secret (default DIR.secret.hex beside the index; env IDV_SECRET_FILE)');

export function program(): Command {
  const idv = new Command('idv')
    .description('Citizen identity verification: build the index, serve it, apply the register\'s changes, check the audit trail')
    .showHelpAfterError()
    .exitOverride();

  idv.command('gen')
    .description('a synthetic population as NDJSON (stdout unless --out)')
    .requiredOption('--count <n>', 'people to generate')
    .option('--seed <s>', 'seed: the same seed gives the same people', '1')
    .option('--out <file>', 'write to this file (mode 0600) with a progress bar')
    .action(gen);

  secretFile(
    idv.command('build')
      .description('build an index from a source file (NDJSON or CSV) or a synthetic population, and publish it')
      .requiredOption('--index <dir>', 'the index directory')
      .option('--input <file>', 'the source file')
      .option('--synthetic <n>', 'a synthetic population of N people instead')
      .option('--seed <s>', 'seed of the synthetic population', '1'),
  )
    .option('--rejects <file>', 'where refused records go (default DIR/rejects.ndjson)')
    .option('--threads <n>', 'worker threads')
    .option('--unsealed', 'for measurement only: record values readable without the secret; served only --unprotected')
    .option('--includes-changes <n>', 'the source holds the served build\'s first N changes (when it has any)')
    .action(build);

  serveSettingOptions(idv.command('serve').description('serve the index over HTTP').option('--index <dir>', 'the index directory (env IDV_INDEX)')).action(serve);

  serveSettingOptions(
    idv.command('demo')
      .description('build a demo index of synthetic citizens if absent, then serve it with a demo key (what npm start runs)')
      .option('--index <dir>', 'the demo index directory', DEMO_DIR)
      .option('--count <n>', 'citizens of the demo index', String(DEMO_SIZE)),
  ).action((f) => demo({ ...f, demo: true }));

  secretFile(
    idv.command('check')
      .description('compare a source file with the served build, record by record; exit 1 on any difference')
      .requiredOption('--index <dir>', 'the index directory')
      .requiredOption('--input <file>', 'the source file'),
  )
    .option('--rejects <file>', 'the rejects file of the build (default: the one its metadata names)')
    .action(check);

  secretFile(
    idv.command('apply')
      .description("apply a file of changes (NDJSON, as POST /v1/records), or replay another index's change log (a replica)")
      .requiredOption('--index <dir>', 'the index directory')
      .option('--input <file>', 'a file of changes, one a line')
      .option('--log <file>', 'logged changes (GET /v1/changes), one a line')
      .option('--batch <n>', 'changes a batch, each durable before the next', String(APPLY_BATCH))
      .option('--window <n>', 'changes read and put in key order at a time', String(APPLY_WINDOW)),
  ).action(apply);

  idv.command('info').description('what the served build was made from and holds, who reads it, whether a build runs').requiredOption('--index <dir>', 'the index directory').action(info);
  secretFile(
    idv
      .command('snapshot')
      .description('copy the served build while it serves, into another index directory, for a replica to start from (the secret is not copied)')
      .requiredOption('--index <dir>', 'the index directory')
      .requiredOption('--out <dir>', 'the index directory of the replica'),
  ).action(snapshot);
  idv.command('gc').description('remove builds no running process reads').requiredOption('--index <dir>', 'the index directory').action(gc);

  idv.command('runtime').description('the Node release, uWebSockets.js build and glibc this runs on, and whether the release is past its end of life').action(runtime);

  const audit = idv.command('audit').description('the audit trail');
  const trail = (cmd: Command) =>
    secretFile(
      cmd
        .option('--index <dir>', 'the index directory')
        .option('--audit-dir <dir>', 'the audit trail (default DIR/audit; env IDV_AUDIT_DIR)')
        .option('--trails <dir>', "every instance's trail: a directory with one trail folder per instance"),
    );
  trail(audit.command('verify').description("check each trail's chain; exit 1 at the first broken link")).action(auditVerify);
  trail(
    audit
      .command('query')
      .description('who checked this citizen (by ID number, or searched and found them), oldest first; or which decisions stated a consent reference')
      .option('--id <n>', 'a 12-digit ID number or a 9-digit legacy number')
      .option('--consent-ref <ref>', "a client's consent reference, as it sent it"),
  ).action(auditQuery);

  const clients = idv.command('clients').description('edit the clients file; add and rotate print the new key once');
  const file = (cmd: Command) => cmd.requiredOption('--file <file>', 'the clients file');
  file(clients.command('add').description('add a client with a new key'))
    .requiredOption('--id <name>', "the client's id (in metrics, logs and the audit trail)")
    .option('--scopes <list>', 'some of verify, demographic, batch, admin (default verify,demographic,batch)')
    .option('--rate <n>', 'requests a second')
    .option('--burst <n>', 'requests at once above the rate')
    .option('--daily-quota <n>', 'requests a UTC day')
    .option('--purposes <list>', 'the purposes it may state, comma-separated')
    .option('--consent-optional', 'its requests need not carry consentRef')
    .action(clientsAdd);
  file(clients.command('list').description('the clients, with key fingerprints')).action(clientsList);
  file(clients.command('revoke').description('remove a client')).requiredOption('--id <name>', "the client's id").action(clientsRevoke);
  file(clients.command('rotate').description('give a client a new key')).requiredOption('--id <name>', "the client's id").action(clientsRotate);

  idv.addHelpText(
    'after',
    `
--unsealed and --unprotected are for measurement only: an index built --unsealed keeps its
records readable without the secret and is served only --unprotected (no audit trail,
rate limits, quotas or probing limits); a sealed index is never served --unprotected.

Environment: every setting of serve and demo has a variable, named in \`idv serve --help\`;
IDV_SECRET_FILE and IDV_AUDIT_DIR hold for the other commands too.`,
  );
  return idv;
}
