package console

import (
	"fmt"

	"github.com/linkedin/goavro/v2"
)

// maxSchema bounds a pasted Avro schema.
const maxSchema = 64 << 10

// parseSchema compiles an Avro schema given on the viewer's form.
func parseSchema(text string) (*goavro.Codec, error) {
	if text == "" {
		return nil, badRequest("format avro needs the writer's schema (the schema field)")
	}
	if len(text) > maxSchema {
		return nil, badRequest("schema: at most %d bytes", maxSchema)
	}
	c, err := goavro.NewCodec(text)
	if err != nil {
		return nil, badRequest("schema: not an Avro schema: %v", err)
	}
	return c, nil
}

// showAvro decodes b with the schema: plain Avro binary, Confluent's
// wire format (magic 0, a 4-byte schema id) or Avro's single-object
// encoding (C3 01, an 8-byte fingerprint); JSON of the datum, or a hex
// dump and the reason when b is none of those.
func showAvro(b []byte, c *goavro.Codec) shown {
	if b == nil {
		return shown{Kind: "null"}
	}
	var firstErr error
	for _, body := range avroBodies(b) {
		native, rest, err := c.NativeFromBinary(body)
		if err == nil && len(rest) == 0 {
			text, err := c.TextualFromNative(nil, native)
			if err == nil {
				s := show(text, "json")
				s.Size = len(b)
				s.Kind = "avro"
				return s
			}
		}
		if firstErr == nil {
			firstErr = err
			if err == nil {
				firstErr = fmt.Errorf("%d bytes left after the datum", len(rest))
			}
		}
	}
	s := show(b, "hex")
	s.Note = fmt.Sprintf("not Avro of this schema: %v", firstErr)
	return s
}

// avroBodies are the ways b may carry one Avro datum, likeliest first.
func avroBodies(b []byte) [][]byte {
	var out [][]byte
	if len(b) > 5 && b[0] == 0 {
		out = append(out, b[5:]) // Confluent: magic byte, schema id
	}
	if len(b) > 10 && b[0] == 0xC3 && b[1] == 0x01 {
		out = append(out, b[10:]) // single-object encoding
	}
	return append(out, b)
}
