// Provenance: every output says it was made by a model. XMP with IPTC's DigitalSourceType
// "trainedAlgorithmicMedia" (the IPTC term for AI-generated media, which C2PA and the big
// platforms read), written as the XMP packet of PNG (iTXt `XML:com.adobe.xmp`), JPEG and WebP.

export const DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

export interface ProvenanceInfo {
  /** Software that made the image (xmp:CreatorTool). */
  creatorTool?: string;
  /** Model id (recorded as the IPTC AI model name field). */
  model?: string;
}

const xmlEscape = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The XMP packet (UTF-8 text) declaring the image AI-generated. */
export function provenanceXmp(info: ProvenanceInfo = {}): string {
  const attrs = [
    `Iptc4xmpExt:DigitalSourceType="${DIGITAL_SOURCE_TYPE}"`,
    info.creatorTool ? `xmp:CreatorTool="${xmlEscape(info.creatorTool)}"` : '',
    info.model ? `Iptc4xmpExt:AIModel="${xmlEscape(info.model)}"` : '',
  ].filter(Boolean).join('\n    ');
  return `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    ${attrs}/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}

/** Reads DigitalSourceType from an XMP packet (null when absent). */
export function digitalSourceTypeOf(xmp: string | Buffer | undefined): string | null {
  if (!xmp) return null;
  const m = /DigitalSourceType\s*=\s*"([^"]*)"|<Iptc4xmpExt:DigitalSourceType>([^<]*)</.exec(String(xmp));
  return m ? (m[1] ?? m[2] ?? null) : null;
}
