// The demo shop's product catalog: generated once from the seed, with responses pre-serialised so
// the target stays cheap under load and never becomes the bottleneck of a benchmark.
import type { Random } from './random.ts';

/** Item ids run from 1 to CATALOG_SIZE. Examples pick ids in this range. */
export const CATALOG_SIZE = 1000;
/** Items per page of `GET /items`. */
export const PAGE_SIZE = 20;
/** At most this many hits from `GET /search`. */
export const SEARCH_LIMIT = 25;

export interface Item {
  id: number;
  sku: string;
  name: string;
  category: string;
  price: number;
  currency: 'EUR';
  rating: number;
  stock: number;
  tags: string[];
  description: string;
  image: string;
}

export interface Catalog {
  /** Summary JSON per item (no description) — what lists and searches return. */
  readonly summaries: readonly Omit<Item, 'description'>[];
  /** Lower-cased names, for search. */
  readonly searchable: readonly string[];
  /** Full item JSON with reviews, pre-serialised, index = id - 1. */
  readonly details: readonly string[];
  /** `GET /items?page=n` bodies, pre-serialised, index = n - 1. */
  readonly pages: readonly string[];
}

const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Eco', 'Ergonomic', 'Vintage', 'Wireless', 'Rugged', 'Smart', 'Silent', 'Heavy-duty', 'Foldable'];
const NOUNS = ['Lamp', 'Kettle', 'Backpack', 'Headphones', 'Chair', 'Notebook', 'Jacket', 'Teapot', 'Drill', 'Blender', 'Umbrella', 'Keyboard', 'Mug', 'Tent'];
const CATEGORIES = ['home', 'kitchen', 'outdoor', 'office', 'audio', 'tools', 'clothing'];
const TAGS = ['bestseller', 'new', 'sale', 'eco', 'limited', 'gift', 'premium'];
const WORDS = 'sturdy light practical elegant durable quiet efficient handmade recycled warranty everyday design quality comfortable precise'.split(' ');
const REVIEWERS = ['ann', 'bob', 'chen', 'dana', 'eli', 'fatima', 'goran', 'hana'];

function sentence(random: Random, words: number): string {
  const parts: string[] = [];
  for (let i = 0; i < words; i++) parts.push(random.pick(WORDS));
  const text = parts.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function paragraph(random: Random, sentences: number): string {
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) parts.push(sentence(random, random.int(6, 14)));
  return parts.join(' ');
}

/** Builds the catalog. Deterministic for a given random sequence. */
export function buildCatalog(random: Random, size = CATALOG_SIZE): Catalog {
  const summaries: Omit<Item, 'description'>[] = [];
  const searchable: string[] = [];
  const details: string[] = [];
  for (let id = 1; id <= size; id++) {
    const name = `${random.pick(ADJECTIVES)} ${random.pick(NOUNS)} ${random.int(100, 999)}`;
    const summary: Omit<Item, 'description'> = {
      id,
      sku: `CIC-${String(id).padStart(5, '0')}`,
      name,
      category: random.pick(CATEGORIES),
      price: Math.round(random.uniform(3, 400) * 100) / 100,
      currency: 'EUR',
      rating: Math.round(random.uniform(2.5, 5) * 10) / 10,
      stock: random.int(0, 250),
      tags: [random.pick(TAGS), random.pick(TAGS)].filter((t, i, all) => all.indexOf(t) === i),
      image: `/static/items/${id}.jpg`,
    };
    const reviews = Array.from({ length: random.int(0, 4) }, () => ({
      author: random.pick(REVIEWERS),
      stars: random.int(1, 5),
      text: paragraph(random, random.int(1, 3)),
    }));
    summaries.push(summary);
    searchable.push(name.toLowerCase());
    details.push(JSON.stringify({ ...summary, description: paragraph(random, random.int(3, 6)), reviews }));
  }
  const pageCount = Math.max(1, Math.ceil(size / PAGE_SIZE));
  const pages: string[] = [];
  for (let page = 1; page <= pageCount; page++) {
    const items = summaries.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    pages.push(JSON.stringify({ page, pageSize: PAGE_SIZE, pages: pageCount, total: size, items }));
  }
  return { summaries, searchable, details, pages };
}

/** Items whose name contains `query` (case-insensitive), at most SEARCH_LIMIT of them. */
export function search(catalog: Catalog, query: string): Omit<Item, 'description'>[] {
  const needle = query.toLowerCase();
  const hits: Omit<Item, 'description'>[] = [];
  for (let i = 0; i < catalog.searchable.length && hits.length < SEARCH_LIMIT; i++) {
    const summary = catalog.summaries[i];
    if (summary !== undefined && catalog.searchable[i]?.includes(needle) === true) hits.push(summary);
  }
  return hits;
}
