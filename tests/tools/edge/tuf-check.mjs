// An independent check of Turbine's TUF metadata: tuf-js (the client npm itself uses) refreshes every role from the
// repository a test serves and downloads one target, verifying signatures, thresholds, versions, expiry and digests.
// Usage: node tuf-check.mjs METADATA_URL TARGETS_URL TRUSTED_ROOT WORK_DIR TARGET_PATH
// Prints one JSON line: {"ok":true,"length":N} or {"ok":false,"error":"..."}.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Updater } from 'tuf-js';

const [metadataBaseUrl, targetBaseUrl, trustedRoot, work, targetPath] = process.argv.slice(2);
const metadataDir = join(work, 'metadata');
const targetDir = join(work, 'targets');
mkdirSync(metadataDir, { recursive: true });
mkdirSync(targetDir, { recursive: true });
copyFileSync(trustedRoot, join(metadataDir, 'root.json'));
try {
  const updater = new Updater({ metadataBaseUrl, targetBaseUrl, metadataDir, targetDir });
  await updater.refresh();
  const info = await updater.getTargetInfo(targetPath);
  if (!info) throw new Error(`no target ${targetPath}`);
  const file = await updater.downloadTarget(info, join(targetDir, 'downloaded'));
  console.log(JSON.stringify({ ok: true, length: statSync(file).size, custom: info.custom }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: `${e.name}: ${e.message}` }));
}
