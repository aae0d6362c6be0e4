// The text of a PDF, for `parley docs add` (unpdf: PDF.js's serverless build, no native parts and
// no dependencies, runs on Node 20). Pages are joined by a blank line; the document's Title (its
// metadata) is returned when it has one. What cannot become a document says why: not a PDF / a
// damaged one, a password-protected one, or one without a text layer (a scan: run OCR first).

export class PdfTextError extends Error {}

export type PdfText = { text: string; pages: number; title: string | null };

export async function pdfText(bytes: Uint8Array): Promise<PdfText> {
  // Loaded on first use: the server never reads PDFs, only the CLI does (PDF.js is ~2 MB of code).
  const { extractText, getDocumentProxy } = await import('unpdf');
  let pdf;
  try {
    // verbosity 0: PDF.js's own warnings ("Indexing all PDF objects") stay off the CLI's output.
    pdf = await getDocumentProxy(bytes, { verbosity: 0 });
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'PasswordException') throw new PdfTextError('the PDF is password-protected: remove the password first');
    throw new PdfTextError(`not a readable PDF (${(error as Error).message})`);
  }
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    const pages = (text as string[]).map((p) => p.replace(/[ \t]+\n/g, '\n').trim());
    const joined = pages.filter((p) => p.length > 0).join('\n\n');
    if (joined.length === 0) throw new PdfTextError(`the PDF has no text layer (${totalPages} page${totalPages === 1 ? '' : 's'} of images?): run OCR first`);
    const info = (await pdf.getMetadata().catch(() => null))?.info as { Title?: unknown } | undefined;
    const title = typeof info?.Title === 'string' && info.Title.trim() ? info.Title.trim() : null;
    return { text: joined, pages: totalPages, title };
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}
