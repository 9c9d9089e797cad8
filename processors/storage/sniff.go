package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strings"
)

// sniffLen is how much of a file content detection reads.
const sniffLen = 512

// Content is what detection decided about a file.
type Content struct {
	// Type is the MIME type stored with the object (from the bytes; the
	// declared type only refines a generic container, e.g. zip → docx).
	Type string
	// Image is true for raster images (png, jpeg, gif, webp, bmp, tiff,
	// heic, avif): they go to the images bucket, everything else to docs.
	Image bool
}

// ErrRefused wraps the reasons a file is refused; they are permanent.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(format string, args ...any) error { return &refusal{reason: fmt.Sprintf(format, args...)} }

// rasterImages are the image types Maria stores in the images bucket (the
// ones a vision model can read). SVG is a document: it is XML, may carry
// scripts, and no vision model reads it.
var rasterImages = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/bmp": true,
	"image/tiff": true, "image/heic": true, "image/heif": true, "image/avif": true, "image/x-icon": true,
}

// zipBased are declared types a sniffed zip may be refined to.
func zipBased(t string) bool {
	return strings.HasPrefix(t, "application/vnd.openxmlformats-officedocument.") ||
		strings.HasPrefix(t, "application/vnd.oasis.opendocument.") ||
		t == "application/epub+zip" || t == "application/zip"
}

// oleBased are legacy Office types a sniffed OLE compound file may be refined to.
func oleBased(t string) bool {
	switch t {
	case "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/vnd.ms-outlook":
		return true
	}
	return false
}

// textual are declared types a sniffed plain text may be refined to.
func textual(t string) bool {
	if t == "text/html" {
		return false // HTML is sniffed reliably; a page claiming to be text is not refined
	}
	return strings.HasPrefix(t, "text/") || t == "application/json" || t == "application/xml" ||
		t == "application/x-yaml" || t == "application/yaml" || t == "application/javascript" ||
		t == "application/sql" || t == "application/x-sh"
}

// sniffMagic recognizes what net/http.DetectContentType does not.
func sniffMagic(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "application/x-elf"
	case isPE(head):
		return "application/vnd.microsoft.portable-executable"
	case bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xce}), bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xcf}),
		bytes.HasPrefix(head, []byte{0xce, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}),
		bytes.HasPrefix(head, []byte{0xca, 0xfe, 0xba, 0xbe}): // fat Mach-O, also Java classes
		return "application/x-mach-binary"
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "image/tiff"
	case bytes.HasPrefix(head, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}):
		return "application/x-ole-storage"
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		switch string(head[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis":
			return "image/heic"
		case "mif1", "msf1":
			return "image/heif"
		case "avif", "avis":
			return "image/avif"
		}
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if bytes.HasPrefix(trimmed, []byte("<svg")) ||
		(bytes.HasPrefix(trimmed, []byte("<?xml")) && bytes.Contains(head, []byte("<svg"))) {
		return "image/svg+xml"
	}
	return ""
}

// isPE recognizes DOS/Windows executables: "MZ", then either the PE header
// its e_lfanew field points to, or the DOS stub's message.
func isPE(head []byte) bool {
	if !bytes.HasPrefix(head, []byte("MZ")) || len(head) < 0x40 {
		return false
	}
	off := int(binary.LittleEndian.Uint32(head[0x3c:0x40]))
	if off >= 0x40 && off+4 <= len(head) && string(head[off:off+4]) == "PE\x00\x00" {
		return true
	}
	return bytes.Contains(head, []byte("program cannot be run in DOS mode"))
}

var executables = map[string]string{
	"application/x-elf":                             "an ELF executable",
	"application/vnd.microsoft.portable-executable": "a Windows executable",
	"application/x-mach-binary":                     "a Mach-O executable or Java class",
}

func mediaType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.SplitN(t, ";", 2)[0]))
	}
	return mt
}

// Detect decides a file's content type from its first bytes (head), and
// refuses content that cannot be what it claims to be:
//
//   - executables (ELF, PE, Mach-O) are refused whatever their name;
//   - a file declared (by Slack's mimetype, else its name) as an image or a
//     PDF must be an image or a PDF — anything else under such a name is a
//     disguise or a broken download (an image named .pdf is fine: the
//     sniffed type is what is stored and what readers see);
//   - an HTML page where something else was declared is refused: it is
//     what a file URL returns when the token lacks access (a login page);
//   - an empty file is refused.
//
// Otherwise the sniffed type wins; the declared type only names a generic
// container more precisely (zip → docx, OLE → xls, text → csv).
func Detect(head []byte, name, declared string) (Content, error) {
	if len(head) == 0 {
		return Content{}, refuse("file is empty")
	}
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	decl := mediaType(declared)
	if decl == "" || decl == "application/octet-stream" || decl == "binary/octet-stream" {
		if byName := mime.TypeByExtension(strings.ToLower(path.Ext(name))); byName != "" {
			decl = mediaType(byName)
		}
	}
	sniffed := sniffMagic(head)
	full := sniffed
	if sniffed == "" {
		full = http.DetectContentType(head)
		sniffed = mediaType(full)
	}
	if what, ok := executables[sniffed]; ok {
		return Content{}, refuse("content is %s (declared %q, name %q): executables are not stored", what, declaredOr(decl), name)
	}
	visual := func(t string) bool { return strings.HasPrefix(t, "image/") || t == "application/pdf" }
	switch {
	case visual(decl) && !visual(sniffed):
		return Content{}, refuse("declared %s but the content is %s", decl, sniffed)
	case sniffed == "text/html" && decl != "text/html":
		return Content{}, refuse("got an HTML page instead of the %s file (a login page: does the bot token have files:read?)", declaredOr(decl))
	}
	typ := full
	switch {
	case sniffed == "application/zip" && zipBased(decl),
		sniffed == "application/x-ole-storage" && oleBased(decl),
		sniffed == "text/plain" && textual(decl):
		typ = decl
		if sniffed == "text/plain" {
			if _, params, err := mime.ParseMediaType(full); err == nil && params["charset"] != "" {
				typ = mime.FormatMediaType(decl, map[string]string{"charset": params["charset"]})
			}
		}
	}
	return Content{Type: typ, Image: rasterImages[mediaType(typ)]}, nil
}

func declaredOr(t string) string {
	if t == "" {
		return "undeclared"
	}
	return t
}
