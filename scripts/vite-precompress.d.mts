// Types of vite-precompress.mjs for the Vite configs that use it (Vite's `Plugin` shape, written
// out: this directory is outside the packages that depend on Vite).
export declare function precompress(): {
  name: string;
  apply: 'build';
  writeBundle(options: { dir?: string }, bundle: Record<string, unknown>): void;
};
