// Types for scripts/build-node.mjs (plain JavaScript so bin/proofbook.mjs can build without tsx).
export declare const REPO_ROOT: string;
export declare const NODE_DIST: string;
export declare const NODE_BUNDLE: string;
/** Bundles `entries` ({ name: repository path }) into `outDir` (NAME.mjs, chunks, maps, inputs.json). */
export declare function buildBundle(opts: { outDir: string; entries: Record<string, string>; quiet?: boolean }): Promise<{ ms: number }>;
export declare function buildNode(opts?: { quiet?: boolean }): Promise<void>;
/** Why dist/node must be rebuilt (missing, a source changed or is gone), or null if current. */
export declare function nodeBuildStale(root?: string, dist?: string): string | null;
export declare function ensureNodeBuild(opts?: { quiet?: boolean }): Promise<string>;
export declare function nodeBundleUrl(): string;
