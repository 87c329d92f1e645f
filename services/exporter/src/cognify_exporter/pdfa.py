"""PDF/A-3b: the audit PDF as an archival record that carries its own JSON package (pure).

Two steps, written down in docs/decisions/pdfa.md and docs/spec/package.md:

- `embed_fonts()` (before rendering): reportlab's standard 14 fonts are never embedded, which
  PDF/A forbids, so each standard name (Helvetica, Courier, Times-Roman and their bold and
  italic faces, Symbol, ZapfDingbats) is registered as a DejaVu TrueType font that reportlab
  subsets and embeds. The report code keeps naming "Helvetica"; what is drawn is DejaVu.
- `archival()` (after rendering, with pikepdf): XMP metadata (pdfaid part 3, conformance B)
  matching the document information dictionary, an sRGB output intent with an embedded ICC
  profile, the JSON package as an associated file (/AF in the catalog, AFRelationship /Data),
  every annotation printable, and dates from the seal, never the clock. The trailer /ID is
  derived from the content, so the same sealed run still gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

import pikepdf
from cognify_events import ExportTemplate
from pikepdf import Array, Dictionary, Name, String
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from .report import Report

# Debian's fonts-dejavu-core (deploy/bootstrap-tools installs it); COGNIFY_FONT_DIR overrides.
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
# Each standard-14 name and the DejaVu face drawn in its place.
STANDARD_FACES = {
    "Helvetica": "DejaVuSans.ttf",
    "Helvetica-Bold": "DejaVuSans-Bold.ttf",
    "Helvetica-Oblique": "DejaVuSans-Oblique.ttf",
    "Helvetica-BoldOblique": "DejaVuSans-BoldOblique.ttf",
    "Courier": "DejaVuSansMono.ttf",
    "Courier-Bold": "DejaVuSansMono-Bold.ttf",
    "Courier-Oblique": "DejaVuSansMono-Oblique.ttf",
    "Courier-BoldOblique": "DejaVuSansMono-BoldOblique.ttf",
    "Times-Roman": "DejaVuSerif.ttf",
    "Times-Bold": "DejaVuSerif-Bold.ttf",
    "Times-Italic": "DejaVuSerif-Italic.ttf",
    "Times-BoldItalic": "DejaVuSerif-BoldItalic.ttf",
    "Symbol": "DejaVuSans.ttf",
    "ZapfDingbats": "DejaVuSans.ttf",
}
ICC_CONDITION = "sRGB IEC61966-2.1"
XMP_PACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"  # the fixed id every XMP packet carries
RELATIONSHIP = "/Data"  # the JSON package holds the data the tables and charts present


class FontsMissing(RuntimeError):
    """The DejaVu fonts PDF/A needs embedded are not installed."""


@dataclass(frozen=True)
class Attachment:
    """A file carried inside the PDF as an associated file."""

    name: str
    data: bytes
    mime_type: str
    description: str


@dataclass(frozen=True)
class DocInfo:
    """What the information dictionary and the XMP metadata both say (they must agree)."""

    title: str
    author: str
    subject: str
    creator: str
    producer: str
    date: datetime  # creation and modification: the seal's time


def _font_dir() -> Path:
    candidates = [os.environ["COGNIFY_FONT_DIR"]] if os.environ.get("COGNIFY_FONT_DIR") else []
    for d in (*candidates, *FONT_DIRS):
        if (Path(d) / "DejaVuSans.ttf").is_file():
            return Path(d)
    raise FontsMissing(
        "the DejaVu fonts are not installed (apt-get install fonts-dejavu-core, or set "
        "COGNIFY_FONT_DIR): a PDF/A audit package must embed every font it uses"
    )


def embed_fonts() -> None:
    """Draw every standard-14 font name with an embedded DejaVu face (idempotent).

    reportlab loads a standard font on first use of its name (a `stringWidth`, a canvas)
    and `registerFont` then keeps that Type 1 font, refusing a TrueType one of the same
    name: so a standard font already loaded is dropped from reportlab's registry first."""
    registry = font_registry()
    if all(isinstance(registry.get(name), TTFont) for name in STANDARD_FACES):
        return
    d = _font_dir()
    for name, face in STANDARD_FACES.items():
        if isinstance(registry.get(name), TTFont):
            continue
        font = TTFont(name, str(d / face))
        _fix_trailing_advances(font, (d / face).read_bytes())
        registry.pop(name, None)
        pdfmetrics.registerFont(font)


def font_registry() -> dict[str, object]:
    """reportlab's font registry (`pdfmetrics._fonts`: no public way to replace a font)."""
    registry: dict[str, object] = pdfmetrics._fonts
    return registry


def _number_of_hmetrics(ttf: bytes) -> int:
    """hhea.numberOfHMetrics of a TrueType font (the table directory read by hand)."""
    (num_tables,) = struct.unpack_from(">H", ttf, 4)
    for i in range(num_tables):
        tag, _sum, offset, _length = struct.unpack_from(">4sIII", ttf, 12 + 16 * i)
        if tag == b"hhea":
            return int(struct.unpack_from(">H", ttf, offset + 34)[0])
    raise FontsMissing("a font without an hhea table cannot be embedded")


def _fix_trailing_advances(font: TTFont, ttf: bytes) -> None:
    """reportlab (4.x, 5.x) keeps, for the glyphs after the last full horizontal metric (all
    of DejaVuSansMono's), the advance already scaled to 1/1000 em, and writes that into the
    subset's hmtx: the embedded program then disagrees with /Widths (veraPDF 6.2.11.5).
    Put the font-unit advance back, as the font file has it."""
    face = font.face
    n = _number_of_hmetrics(ttf)
    last = face.hmetrics[n - 1][0]
    face.hmetrics[n:] = [(last, lsb) for _aw, lsb in face.hmetrics[n:]]


def icc_profile() -> bytes:
    """A 588-byte ICC v4 sRGB profile, generated by littleCMS and shipped with the package."""
    return resources.files("cognify_exporter").joinpath("data/sRGB-v4.icc").read_bytes()


def pdf_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def xmp_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time from the seal; a naive one is UTC."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def xmp(info: DocInfo) -> bytes:
    def e(s: str) -> str:
        return escape(s)

    date = xmp_date(info.date)
    text = f"""<?xpacket begin="\ufeff" id="{XMP_PACKET_ID}"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(info.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{e(info.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt>
    <rdf:li xml:lang="x-default">{e(info.subject)}</rdf:li>
   </rdf:Alt></dc:description>
   <xmp:CreatorTool>{e(info.creator)}</xmp:CreatorTool>
   <xmp:CreateDate>{date}</xmp:CreateDate>
   <xmp:ModifyDate>{date}</xmp:ModifyDate>
   <xmp:MetadataDate>{date}</xmp:MetadataDate>
   <pdf:Producer>{e(info.producer)}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return text.encode()


def _associated_file(pdf: pikepdf.Pdf, a: Attachment, date: datetime) -> Dictionary:
    stream = pikepdf.Stream(pdf, a.data)
    stream.Type = Name.EmbeddedFile
    stream.Subtype = Name("/" + a.mime_type)
    stream.Params = Dictionary(
        Size=len(a.data),
        ModDate=String(pdf_date(date)),
        CheckSum=String(hashlib.md5(a.data, usedforsecurity=False).digest()),
    )
    spec = Dictionary(
        Type=Name.Filespec,
        F=String(a.name),
        UF=String(a.name),
        Desc=String(a.description),
        AFRelationship=Name(RELATIONSHIP),
        EF=Dictionary(F=stream, UF=stream),
    )
    return pdf.make_indirect(spec)


def archival(data: bytes, info: DocInfo, attachments: list[Attachment]) -> bytes:
    """`data` (a reportlab PDF drawn after `embed_fonts()`) as PDF/A-3b carrying `attachments`."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        meta = pikepdf.Stream(pdf, xmp(info))
        meta.Type, meta.Subtype = Name.Metadata, Name.XML
        root.Metadata = pdf.make_indirect(meta)
        icc = pikepdf.Stream(pdf, icc_profile())
        icc.N = 3
        root.OutputIntents = Array(
            [
                Dictionary(
                    Type=Name.OutputIntent,
                    S=Name.GTS_PDFA1,
                    OutputConditionIdentifier=String(ICC_CONDITION),
                    Info=String(ICC_CONDITION),
                    RegistryName=String("http://www.color.org"),
                    DestOutputProfile=pdf.make_indirect(icc),
                )
            ]
        )
        specs = [_associated_file(pdf, a, info.date) for a in attachments]
        if specs:
            names = Array()
            for a, spec in sorted(zip(attachments, specs, strict=True), key=lambda p: p[0].name):
                names.extend([String(a.name), spec])
            root.Names = Dictionary(EmbeddedFiles=Dictionary(Names=names))
            root.AF = Array(specs)
            root.PageMode = Name.UseAttachments
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", Array()):
                annot.F = 4  # Print: PDF/A wants every annotation printed as shown
        date = String(pdf_date(info.date))
        pdf.trailer.Info = pdf.make_indirect(
            Dictionary(
                Title=String(info.title),
                Author=String(info.author),
                Subject=String(info.subject),
                Creator=String(info.creator),
                Producer=String(info.producer),
                CreationDate=date,
                ModDate=date,
            )
        )
        out = io.BytesIO()
        # The XMP stream stays uncompressed (readable by tools that scan for the packet);
        # the /ID is a hash of the content: the same input gives the same bytes.
        pdf.save(out, deterministic_id=True, min_version="1.7", compress_streams=True)
        return out.getvalue()


def audit_package(data: bytes, report: Report, template: ExportTemplate) -> bytes:
    """The rendered audit PDF as PDF/A-3b carrying the run's JSON package (the same bytes
    `--format json` exports), dated by the seal."""
    from . import jsonpkg  # the JSON package renders from the same report

    run_id = str(report.run["run_id"])
    info = DocInfo(
        title=f"Cognify audit package {run_id}",
        author="Cognify exporter",
        subject=f"template {template.value}",
        creator="Cognify",
        producer="Cognify exporter (reportlab, pikepdf)",
        date=parse_time(report.seal.sealed_at),
    )
    attachment = Attachment(
        name=f"{run_id}.{template.value}.audit.json",
        data=jsonpkg.render(report, template),
        mime_type="application/json",
        description="The machine-readable audit package (lineage graph, hashes, seal) this "
        "report presents",
    )
    return archival(data, info, [attachment])
