/**
 * Regenerates app/grpc/descriptors.binpb, the FileDescriptorSet (all of proto/, imports included, no source info)
 * that the gRPC server's reflection service hands out. Run after changing any .proto file:
 *   node --import tsx app/grpc/build-descriptors.ts
 * (test/grpc-server.test.ts fails while the committed file is stale.)
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DESCRIPTORS_PATH = join(ROOT, 'app', 'grpc', 'descriptors.binpb');

/** Runs `buf build` (from node_modules) and returns the FileDescriptorSet bytes. */
export function buildDescriptors(): Buffer {
  const buf = join(ROOT, 'node_modules', '.bin', 'buf');
  return execFileSync(buf, ['build', '--as-file-descriptor-set', '--exclude-source-info', '-o', '-'], { cwd: ROOT, maxBuffer: 64 << 20 });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { writeFileSync } = await import('node:fs');
  const bytes = buildDescriptors();
  writeFileSync(DESCRIPTORS_PATH, bytes);
  console.log(`wrote ${DESCRIPTORS_PATH} (${bytes.length} bytes)`);
}
