// Package gallery searches enrolled face templates one against many: 1:N
// identification ("who is this?") and de-duplication ("is this face already
// enrolled under another identity?").
//
// A Gallery holds one facematch.Template per identity id, all made by one
// embedding model (a template of another model is refused with
// facematch.ErrTemplateModel, never scored). Search returns the K enrolled
// templates most similar to a probe, best first, with the calibrated
// percentage facematch.Matcher.CompareTemplates gives for the same pair —
// bit for bit: candidates are rescored with compare.Cosine. EnrollUnique
// refuses, and names, an existing identity whose face matches above the
// threshold: the check against one person enrolling under several
// identities.
//
// # Implementations
//
// Embedded (Open) is the default: every template in memory, packed for the
// project's GEMM kernels (internal/gemm), so a search is an exact
// matrix-vector product over the whole gallery followed by a top-K
// selection; persisted in one bbolt file that survives a crash at any
// point. Subpackage pgvector stores templates in PostgreSQL with the
// pgvector extension and an HNSW index, for galleries that outgrow one
// machine; its search is approximate (see its documentation for recall).
// Both pass the suite in subpackage gallerytest.
//
// # Biometric data
//
// Only templates are stored, never images, and each under the id the caller
// chose (use an opaque reference, not a name). Remove really deletes: the
// embedded gallery rewrites its file without the removed templates; the
// PostgreSQL gallery deletes the rows (see pgvector for VACUUM).
//
// # Use
//
//	m, _ := facematch.New(nil)
//	g, err := gallery.Open("faces.db", m.ModelID(), nil)
//	...
//	t, err := m.Template(ctx, facematch.File("selfie.jpg"))
//	err = g.EnrollUnique(ctx, "customer-1234", t, 0) // *DuplicateError if already enrolled
//	matches, err := g.Search(ctx, t, &gallery.SearchOptions{K: 5, MinPercentage: 70})
package gallery
