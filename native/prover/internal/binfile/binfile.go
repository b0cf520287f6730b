// Package binfile reads iden3's binary container format (used by snarkjs .zkey, .wtns and circom .r1cs files):
//
//	magic[4] | version u32 LE | nSections u32 LE | nSections × (type u32 LE | size u64 LE | payload[size])
//
// The file is memory-mapped read-only, so sections are views into the page cache rather than heap copies: a proving
// key of hundreds of MiB is never duplicated in memory.
package binfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// File is a mapped container with its section table.
type File struct {
	Path     string
	Magic    string
	Version  uint32
	data     []byte
	mapped   bool
	sections map[uint32][]section
}

type section struct{ off, size uint64 }

// FormatError is returned for any structural problem of a file (wrong magic, truncated, bad section table).
type FormatError struct {
	Path string
	Msg  string
}

func (e *FormatError) Error() string { return fmt.Sprintf("%s: %s", e.Path, e.Msg) }

func formatErr(path, f string, a ...any) error {
	return &FormatError{Path: path, Msg: fmt.Sprintf(f, a...)}
}

// Open maps path and checks its magic and section table. Sections must lie inside the file.
func Open(path, magic string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, formatErr(path, "not a regular file")
	}
	size := st.Size()
	f := &File{Path: path, sections: map[uint32][]section{}}
	if size > 0 {
		data, err := syscall.Mmap(int(fd.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			// Fall back to reading (e.g. a filesystem without mmap support).
			data, err = os.ReadFile(path)
			if err != nil {
				return nil, err
			}
		} else {
			f.mapped = true
		}
		f.data = data
	}
	if err := f.parse(magic); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (f *File) parse(magic string) error {
	if len(f.data) < 12 {
		return formatErr(f.Path, "file too short (%d bytes) to be a %q file", len(f.data), magic)
	}
	f.Magic = string(f.data[:4])
	if f.Magic != magic {
		return formatErr(f.Path, "not a %q file (magic %q)", magic, f.Magic)
	}
	f.Version = binary.LittleEndian.Uint32(f.data[4:])
	n := binary.LittleEndian.Uint32(f.data[8:])
	pos := uint64(12)
	total := uint64(len(f.data))
	for i := uint32(0); i < n; i++ {
		if pos+12 > total {
			return formatErr(f.Path, "truncated: section header %d of %d is past the end of the file", i+1, n)
		}
		typ := binary.LittleEndian.Uint32(f.data[pos:])
		sz := binary.LittleEndian.Uint64(f.data[pos+4:])
		pos += 12
		if sz > total-pos {
			return formatErr(f.Path, "truncated: section %d (type %d) claims %d bytes but only %d remain", i+1, typ, sz, total-pos)
		}
		f.sections[typ] = append(f.sections[typ], section{off: pos, size: sz})
		pos += sz
	}
	return nil
}

// ErrMissing marks a section that is not in the file.
var ErrMissing = errors.New("missing section")

// Section returns the payload of the unique section typ (a view into the mapped file, never written to).
func (f *File) Section(typ uint32) ([]byte, error) {
	s := f.sections[typ]
	if len(s) == 0 {
		return nil, formatErr(f.Path, "%v %d", ErrMissing, typ)
	}
	if len(s) > 1 {
		return nil, formatErr(f.Path, "section %d appears %d times", typ, len(s))
	}
	return f.data[s[0].off : s[0].off+s[0].size : s[0].off+s[0].size], nil
}

// Close unmaps the file; slices returned by Section must not be used afterwards.
func (f *File) Close() error {
	if f.mapped && f.data != nil {
		err := syscall.Munmap(f.data)
		f.data = nil
		return err
	}
	f.data = nil
	return nil
}

// Writer writes a container section by section (used by the test-only setup).
type Writer struct {
	fd *os.File
	w  *bufWriter
}

// bufWriter is a tiny buffered writer that remembers the first error.
type bufWriter struct {
	fd  *os.File
	buf []byte
	err error
}

func (b *bufWriter) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= 1<<20 {
		b.flush()
	}
	return len(p), b.err
}

func (b *bufWriter) flush() {
	if b.err == nil && len(b.buf) > 0 {
		_, b.err = b.fd.Write(b.buf)
	}
	b.buf = b.buf[:0]
}

// Create starts a container with the given magic, version and number of sections.
func Create(path, magic string, version, nSections uint32) (*Writer, error) {
	fd, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &Writer{fd: fd, w: &bufWriter{fd: fd}}
	hdr := make([]byte, 12)
	copy(hdr, magic)
	binary.LittleEndian.PutUint32(hdr[4:], version)
	binary.LittleEndian.PutUint32(hdr[8:], nSections)
	w.w.Write(hdr)
	return w, nil
}

// Section writes one whole section: its header and the payload produced by fill.
func (w *Writer) Section(typ uint32, size uint64, fill func(out io.Writer)) {
	hdr := make([]byte, 12)
	binary.LittleEndian.PutUint32(hdr, typ)
	binary.LittleEndian.PutUint64(hdr[4:], size)
	w.w.Write(hdr)
	fill(w.w)
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	w.w.flush()
	if w.w.err != nil {
		w.fd.Close()
		return w.w.err
	}
	return w.fd.Close()
}
