package imageio

import "encoding/binary"

// Orientation returns the EXIF orientation (1..8) of a JPEG file, read from
// the Orientation tag (0x0112) of IFD0 in the first APP1 "Exif" segment
// before the image data. Both TIFF byte orders are understood. It returns 1
// (upright) when the data is not a JPEG, has no EXIF segment or no
// Orientation tag, or when the value is out of range or the segment is
// malformed. It never panics and does not decode pixels.
func Orientation(jpegData []byte) int {
	d := jpegData
	if len(d) < 4 || d[0] != 0xFF || d[1] != 0xD8 {
		return 1
	}
	i := 2
	for i+4 <= len(d) {
		if d[i] != 0xFF {
			return 1 // not at a marker: malformed
		}
		m := d[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			i += 2
			continue
		case m == 0xD9 || m == 0xDA: // EOI, SOS: no EXIF after this point
			return 1
		}
		n := int(d[i+2])<<8 | int(d[i+3]) // segment length, includes itself
		if n < 2 || i+2+n > len(d) {
			return 1
		}
		seg := d[i+4 : i+2+n]
		if m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 1
	}
	count := int64(bo.Uint16(t[off:]))
	p := off + 2
	for k := int64(0); k < count; k++ {
		e := p + 12*k
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ, n := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		if n != 1 {
			return 1
		}
		var v int
		switch typ {
		case 3: // SHORT, value left-justified in the 4-byte field
			v = int(bo.Uint16(t[e+8:]))
		case 4: // LONG (seen in the wild)
			v = int(bo.Uint32(t[e+8:]))
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return v
	}
	return 1
}
