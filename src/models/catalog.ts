/**
 * The model catalog (catalog-data.ts), validated once, and how a name a person types finds an
 * entry: the same forgiveness as local models (case, `-`, `_`, space and `.` ignored), but only
 * whole names and prefixes, so a stray substring never starts a 17 GB download.
 */
import { z } from 'zod';
import { bestMatches, normalizeName } from '../backends/model-resolver.js';
import { CATALOG_DATA } from './catalog-data.js';

const HF_ID = /^[\w.-]+\/[\w.-]+$/;

const entrySchema = z
  .object({
    name: z.string().min(1),
    aliases: z.array(z.string().min(1)).default([]),
    description: z.string().min(1),
    mlx: z.object({ repo: z.string().regex(HF_ID), sizeBytes: z.number().int().positive() }).strict(),
    gguf: z
      .object({ repo: z.string().regex(HF_ID), file: z.string().regex(/\.gguf$/) })
      .strict()
      .optional(),
    lmstudio: z.string().min(1).optional(),
    ollama: z.string().regex(/^[\w.-]+:[\w.-]+$/).optional(),
    contextWindow: z.number().int().positive(),
    tools: z.boolean(),
    smaller: z.string().optional(),
  })
  .strict();

export type CatalogEntry = z.infer<typeof entrySchema>;

/** Parses the data and checks what a schema cannot: unique names, `smaller` pointing at a smaller entry. */
export function parseCatalog(data: unknown): CatalogEntry[] {
  const entries = z.array(entrySchema).parse(data);
  const byName = new Map<string, CatalogEntry>();
  for (const entry of entries) {
    for (const name of [entry.name, ...entry.aliases]) {
      const key = normalizeName(name);
      const other = byName.get(key);
      if (other !== undefined && other !== entry) throw new Error(`catalog: "${name}" names both ${other.name} and ${entry.name}`);
      byName.set(key, entry);
    }
  }
  for (const entry of entries) {
    if (entry.smaller === undefined) continue;
    const smaller = entries.find((e) => e.name === entry.smaller);
    if (smaller === undefined) throw new Error(`catalog: ${entry.name}'s smaller sibling ${entry.smaller} is not in the catalog`);
    if (smaller.mlx.sizeBytes >= entry.mlx.sizeBytes) throw new Error(`catalog: ${entry.name}'s smaller sibling ${entry.smaller} is not smaller`);
  }
  return entries;
}

export const CATALOG: readonly CatalogEntry[] = parseCatalog(CATALOG_DATA);

/**
 * Entries a query names: an exact MLX repository id, or a name or alias matched whole, by its
 * last segment or as a prefix. Several entries: the query is ambiguous.
 */
export function findInCatalog(query: string, catalog: readonly CatalogEntry[] = CATALOG): CatalogEntry[] {
  const trimmed = query.trim();
  const byRepo = catalog.filter((e) => e.mlx.repo.toLowerCase() === trimmed.toLowerCase());
  if (byRepo.length > 0) return byRepo;
  const q = normalizeName(trimmed);
  if (q === '') return [];
  const names = catalog.flatMap((entry) => [entry.name, ...entry.aliases].map((name) => ({ entry, name })));
  // Substring matches (bestMatches' last tier) are dropped: only whole names and prefixes count.
  const matched = bestMatches(trimmed, names, (n) => n.name).filter((n) => normalizeName(n.name.split('/').at(-1) ?? n.name).startsWith(q) || normalizeName(n.name) === q);
  return [...new Set(matched.map((n) => n.entry))];
}

/** The entry called exactly `name`. */
export function catalogEntry(name: string, catalog: readonly CatalogEntry[] = CATALOG): CatalogEntry | undefined {
  return catalog.find((e) => e.name === name);
}

/** `entry`'s smaller siblings, nearest first (`smaller`, its `smaller`, …). */
export function smallerSiblings(entry: CatalogEntry, catalog: readonly CatalogEntry[] = CATALOG): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  for (let next = entry.smaller; next !== undefined; ) {
    const sibling = catalogEntry(next, catalog);
    if (sibling === undefined || out.includes(sibling)) break;
    out.push(sibling);
    next = sibling.smaller;
  }
  return out;
}

/** How to name what the user asked for: the catalog's spelling when it names one entry ("qwen3 coder 30b" → "Qwen3-Coder-30B"). */
export function displayName(query: string): string {
  const [entry, ...others] = findInCatalog(query);
  return entry !== undefined && others.length === 0 ? entry.name : query;
}
