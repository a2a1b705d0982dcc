package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTxnCommands(t *testing.T) {
	b := newCluster(t)
	mustWeir(t, b, "", "topic", "create", "orders", "--partitions", "2")
	cl, err := kgo.NewClient(kgo.SeedBrokers(b), kgo.TransactionalID("app-txn"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Partition: 1, Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	r := mustWeir(t, b, "", "txn", "list")
	if !hasRow(r.stdout, "app-txn", "Ongoing") {
		t.Errorf("list printed:\n%s", r.stdout)
	}
	var rows []TxnRow
	r = mustWeir(t, b, "", "txn", "list", "--state", "Ongoing", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 || rows[0].TransactionalID != "app-txn" {
		t.Errorf("list -o json: %v %+v", err, rows)
	}
	var ds []TxnDescription
	r = mustWeir(t, b, "", "txn", "describe", "app-txn", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil || len(ds) != 1 || ds[0].State != "Ongoing" ||
		len(ds[0].Partitions) != 1 || ds[0].Partitions[0] != "orders-1" {
		t.Errorf("describe -o json: %v %+v", err, ds)
	}
	if r := weir(t, b, "", "txn", "describe", "nobody"); r.code == 0 {
		t.Errorf("describe of an unknown id succeeded:\n%s", r.stdout)
	}
	if r := weir(t, b, "", "txn", "abort", "--partition", "1", "--start-offset", "0"); r.code == 0 {
		t.Errorf("abort without --topic succeeded")
	}
	if r := weir(t, b, "", "txn", "abort", "--topic", "orders", "--start-offset", "0"); r.code == 0 || !strings.Contains(r.stderr, "--partition") {
		t.Errorf("abort without --partition: %+v", r)
	}
	var prows []ProducerRow
	r = mustWeir(t, b, "", "txn", "producers", "--topic", "orders", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &prows); err != nil || len(prows) != 1 || prows[0].Partition != 1 ||
		prows[0].ProducerID != ds[0].ProducerID || prows[0].TxnStartOffset != 0 {
		t.Errorf("producers -o json: %v %+v", err, prows)
	}
	r = mustWeir(t, b, "", "txn", "producers", "--topic", "orders", "--partition", "1")
	if len(prows) == 0 || !hasRow(r.stdout, "orders", "1", itoa(int64(prows[0].Leader)), itoa(ds[0].ProducerID)) {
		t.Errorf("producers printed:\n%s", r.stdout)
	}
	if r := weir(t, b, "", "txn", "producers"); r.code == 0 {
		t.Errorf("producers without --topic succeeded")
	}
	for _, args := range [][]string{
		{"--start-offset", "0", "--producer-id", "1", "--producer-epoch", "0", "--coordinator-epoch", "0"}, // both forms
		{"--producer-id", itoa(ds[0].ProducerID), "--producer-epoch", "0"},                                 // no coordinator epoch
		{}, // neither
	} {
		if r := weir(t, b, "", append([]string{"txn", "abort", "--topic", "orders", "--partition", "1"}, args...)...); r.code == 0 {
			t.Errorf("abort %v succeeded:\n%s", args, r.stdout)
		}
	}
	if r := weir(t, b, "", "txn", "abort", "--topic", "orders", "--partition", "1", "--start-offset", "5"); r.code == 0 ||
		!strings.Contains(r.stderr, "no open transaction starts at offset 5") {
		t.Errorf("abort at an offset no transaction starts at: %+v", r)
	}
	r = mustWeir(t, b, "", "txn", "abort", "--topic", "orders", "--partition", "1", "--start-offset", "0")
	if !strings.Contains(r.stdout, "aborted the transaction of producer "+itoa(ds[0].ProducerID)) {
		t.Errorf("abort printed:\n%s", r.stdout)
	}
}
