import type { Kysely } from 'kysely';

// Frozen in time. The type of the smaller copy Tora made of an image (modules/files/thumbnails.ts):
// NULL while none was tried, '' when the image has none (too large, or its bytes do not decode).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('experiment_media').addColumn('thumbnail_type', 'text').execute();
}
