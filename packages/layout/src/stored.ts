import { layoutPageSchema, layoutSchema, type Layout, type LayoutPage } from '@docproc/catalog';

/** The part of a blob store layouts need. */
interface Blobs {
  get(key: string): Promise<Buffer>;
  put(key: string, data: Buffer | string): Promise<void>;
}

/** The one pair that writes and reads a page's layout (made where the page was read). */
export async function writePageLayout(blobs: Blobs, key: string, page: LayoutPage): Promise<void> {
  await blobs.put(key, JSON.stringify(page));
}
export async function readPageLayout(blobs: Blobs, key: string): Promise<LayoutPage> {
  return layoutPageSchema.parse(JSON.parse((await blobs.get(key)).toString('utf8')));
}

/** The one pair that writes and reads a document's layout. */
export async function writeLayout(blobs: Blobs, key: string, layout: Layout): Promise<void> {
  await blobs.put(key, JSON.stringify(layout));
}
export async function readLayout(blobs: Blobs, key: string): Promise<Layout> {
  return layoutSchema.parse(JSON.parse((await blobs.get(key)).toString('utf8')));
}
