package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

const orderSchema = `{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"item","type":"string"}]}`

func TestShowAvro(t *testing.T) {
	c, err := parseSchema(orderSchema)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.BinaryFromNative(nil, map[string]any{"id": int64(7), "item": "tea"})
	if err != nil {
		t.Fatal(err)
	}
	confluent := append([]byte{0, 0, 0, 0, 42}, plain...)
	single := append([]byte{0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8}, plain...)
	for name, in := range map[string][]byte{"plain": plain, "confluent": confluent, "single-object": single} {
		s := showAvro(in, c)
		if s.Kind != "avro" || !strings.Contains(s.Text, `"item": "tea"`) || !strings.Contains(s.Text, `"id": 7`) || s.Size != len(in) {
			t.Errorf("%s: %+v", name, s)
		}
	}
	if s := showAvro([]byte("no avro here at all"), c); s.Kind != "hex" || !strings.Contains(s.Note, "not Avro of this schema") {
		t.Errorf("garbage: %+v", s)
	}
	if s := showAvro(nil, c); s.Kind != "null" {
		t.Errorf("nil: %+v", s)
	}
	for _, bad := range []string{"", "{", `{"type":"nope"}`, strings.Repeat(" ", maxSchema+1)} {
		if _, err := parseSchema(bad); statusOf(err) != http.StatusBadRequest {
			t.Errorf("parseSchema(%.20q): %v, want a bad request", bad, err)
		}
	}
}

func TestViewerAvro(t *testing.T) {
	f := newFixture(t, Options{})
	c, _ := parseSchema(orderSchema)
	plain, _ := c.BinaryFromNative(nil, map[string]any{"id": int64(9), "item": "cake"})
	f.produce(t, &kgo.Record{Topic: "orders", Partition: 1, Key: []byte("k"), Value: append([]byte{0, 0, 0, 0, 1}, plain...)})
	q := url.Values{"partition": {"1"}, "format": {"avro"}, "schema": {orderSchema}}
	code, body := f.get(t, "/console/topics/orders/messages?"+q.Encode())
	if code != http.StatusOK || !strings.Contains(body, `&#34;item&#34;: &#34;cake&#34;`) {
		t.Errorf("avro view: %d\n%s", code, body[strings.Index(body, "<main"):])
	}
	for _, q := range []url.Values{{"format": {"avro"}}, {"format": {"avro"}, "schema": {"{"}}} {
		if code, _ := f.get(t, "/console/topics/orders/messages?"+q.Encode()); code != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", q, code)
		}
	}
}
