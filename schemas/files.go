package schemas

// SubjectFileRead is the request/reply endpoint of the storage processor
// that hands a stored file's content to a reader (the AI processor): the
// text extracted when the file was stored, or an image's bytes.
const SubjectFileRead = "maria.files.read"

// Payload types of maria.files.read (plain JSON bodies, like history).
const (
	TypeFileRead    = "files.read.v1"
	TypeFileContent = "files.content.v1"
)

// What a stored file is to a reader (FileContent.Kind).
const (
	FileKindText        = "text"
	FileKindImage       = "image"
	FileKindUnsupported = "unsupported"
	FileKindUnreadable  = "unreadable"
	FileKindTooBig      = "too_big"
)

// FileRead asks for a stored file's content (files.read.v1). Team is the
// workspace the file was shared in: storage keeps one copy per workspace
// (a Slack Connect channel shows the same file id to several) and answers
// only with the asking workspace's; empty finds only files stored before
// copies were kept per workspace with no team recorded. MaxChars caps the
// text returned; Image asks for an image's bytes, refused over
// MaxImageBytes (a reply must fit in one NATS message).
type FileRead struct {
	Team          string `json:"team,omitempty"`
	FileID        string `json:"file_id" jsonschema:"minLength=1"`
	MaxChars      int    `json:"max_chars,omitempty" jsonschema:"minimum=0"`
	Image         bool   `json:"image,omitempty"`
	MaxImageBytes int64  `json:"max_image_bytes,omitempty" jsonschema:"minimum=0"`
}

// FileContent answers a FileRead (files.content.v1). Found is false while
// the file is not stored (yet); Error says why a found file cannot be read
// (Kind unsupported, unreadable or too_big), in words fit for the user.
type FileContent struct {
	Found       bool   `json:"found"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
	Kind        string `json:"kind,omitempty" jsonschema:"enum=,enum=text,enum=image,enum=unsupported,enum=unreadable,enum=too_big"`
	// Text is the extracted text, at most MaxChars characters; Chars is
	// the length of the whole extracted text; Truncated when Text is less
	// than the document (cut here or when it was extracted), Note says how.
	Text      string `json:"text,omitempty"`
	Chars     int    `json:"chars,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	Note      string `json:"note,omitempty"`
	// ImageBase64 is the image's bytes when asked for and within the limit.
	ImageBase64 string `json:"image_base64,omitempty"`
	Error       string `json:"error,omitempty"`
}
