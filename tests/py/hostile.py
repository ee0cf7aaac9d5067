"""Hostile files for the upload tests: each is small on the wire and would cost a reader that
trusted it gigabytes or minutes. Usage:

    hostile.py outside FORM.xlsx OUT.xlsx   the form with a value at XFD1048576 on every sheet
    hostile.py bomb OUT.xlsx MEGABYTES      an .xlsx whose sheet inflates to that many megabytes
    hostile.py liar OUT.xlsx MEGABYTES      the same, its headers claiming the sheet is 1 kB
    hostile.py strings OUT.xlsx             an .xlsx declaring a trillion shared strings
    hostile.py entries OUT.xlsx             a zip whose zip64 directory claims a trillion entries
    hostile.py ods OUT.ods                  an .ods with one value repeated over a million rows
    hostile.py zipbomb OUT.zip MEGABYTES    a bulk upload: a "form" inflating to that many
                                            megabytes, and a zip inside the zip
"""

import io
import sys
import zipfile

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)


def outside(form, out):
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/") and item.filename.endswith(".xml"):
                far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
                data = data.replace(b"</sheetData>", far, 1).replace(b"<sheetData/>", b"<sheetData>" + far, 1)
            dst.writestr(item, data)


def write_big(zf, name, megabytes, head=b"", tail=b""):
    chunk = b" " * (1 << 20)
    with zf.open(name, "w", force_zip64=megabytes >= 4000) as f:
        f.write(head)
        for _ in range(megabytes):
            f.write(chunk)
        f.write(tail)


def bomb(out, megabytes):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        write_big(
            zf,
            "xl/worksheets/sheet1.xml",
            megabytes,
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
            b"</sheetData></worksheet>",
        )


def liar(out, megabytes):
    """A bomb whose local and central headers both understate the sheet's inflated size."""
    bomb(out, megabytes)
    data = bytearray(open(out, "rb").read())
    name = b"xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(out) as zf:
        offset = zf.getinfo(name.decode()).header_offset
    assert data[offset:offset + 4] == b"PK\x03\x04"
    data[offset + 22:offset + 26] = (1000).to_bytes(4, "little")
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + length] == name:
            data[at + 24:at + 28] = (1000).to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    open(out, "wb").write(data)


def strings(out):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'count="1000000000000" uniqueCount="1000000000000"><si><t>a</t></si></sst>',
        )


def entries(out):
    """A zip64 end-of-central-directory record claiming 2**40 entries in a huge directory."""
    import struct

    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
    data = body.getvalue()
    eocd = data.rfind(b"PK\x05\x06")
    start = eocd
    n = 2**40
    zip64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, 2**50, 2**45)
    locator = struct.pack("<IIQI", 0x07064B50, 0, start, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    open(out, "wb").write(data[:start] + zip64 + locator + end)


def ods(out):
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        "<office:body><office:spreadsheet>"
        '<table:table table:name="Nhập liệu">'
        '<table:table-row table:number-rows-repeated="1048576">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1">'
        "<text:p>1</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)


def zipbomb(out, megabytes):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mau.xlsx", b"PK")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        write_big(zf, "xa-an-khe.xlsx", megabytes)
        zf.writestr("lo-lo.zip", inner.getvalue())


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if kind == "outside":
        outside(args[0], args[1])
    elif kind == "bomb":
        bomb(args[0], int(args[1]))
    elif kind == "liar":
        liar(args[0], int(args[1]))
    elif kind == "strings":
        strings(args[0])
    elif kind == "entries":
        entries(args[0])
    elif kind == "ods":
        ods(args[0])
    elif kind == "zipbomb":
        zipbomb(args[0], int(args[1]))
    else:
        sys.exit(f"unknown kind {kind}")
