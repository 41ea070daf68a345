package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxPageSize is the largest page Transactions asks for (the limit of arweave.net and most gateways).
const MaxPageSize = 100

// Sort orders accepted in TxQuery.Sort.
const (
	SortHeightAsc  = "HEIGHT_ASC"
	SortHeightDesc = "HEIGHT_DESC"
)

// TagFilter matches transactions that have a tag Name with any of Values.
type TagFilter struct {
	Name   string
	Values []string
}

// TxQuery selects transactions. Empty fields are left out of the query. Filters combine with AND.
type TxQuery struct {
	IDs        []string
	Owners     []string // owner addresses
	Recipients []string
	Tags       []TagFilter
	Sort       string // SortHeightAsc, SortHeightDesc or "" (gateway default)
	First      int    // page size; 0 or more than MaxPageSize means MaxPageSize
	After      string // cursor from a previous page
}

// Tag is a decoded (UTF-8) transaction tag.
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Owner is a transaction owner: the wallet address and the base64url public key.
type Owner struct {
	Address string `json:"address"`
	Key     string `json:"key"`
}

// Block is the block a transaction was mined in.
type Block struct {
	ID        string `json:"id"`
	Height    int64  `json:"height"`
	Timestamp int64  `json:"timestamp"` // seconds
}

// Tx is a transaction or a bundled data item as GraphQL describes it.
type Tx struct {
	ID        string
	Anchor    string
	Signature string
	Recipient string
	Owner     Owner
	Tags      []Tag
	DataSize  int64
	DataType  string
	Block     *Block // nil while pending
	BundledIn string // id of the containing bundle, "" for L1 transactions (and on gateways that do not say)
}

const txFields = `id anchor signature recipient owner { address key } tags { name value } data { size type } block { id height timestamp } bundledIn { id }`

// Transactions runs one GraphQL transactions query and returns one page. next is the cursor to pass as
// TxQuery.After for the following page, or "" when there is none.
func (c *Client) Transactions(ctx context.Context, q TxQuery) (txs []Tx, next string, err error) {
	query, vars, err := buildTxQuery(q)
	if err != nil {
		return nil, "", fmt.Errorf("gateway transactions: %w", err)
	}
	var out struct {
		Transactions *struct {
			PageInfo struct {
				HasNextPage bool `json:"hasNextPage"`
			} `json:"pageInfo"`
			Edges []struct {
				Cursor string  `json:"cursor"`
				Node   *txNode `json:"node"`
			} `json:"edges"`
		} `json:"transactions"`
	}
	if err := c.graphql(ctx, query, vars, &out); err != nil {
		return nil, "", fmt.Errorf("gateway transactions: %w", err)
	}
	if out.Transactions == nil {
		return nil, "", errors.New("gateway transactions: response has no transactions member")
	}
	txs = make([]Tx, 0, len(out.Transactions.Edges))
	last := ""
	for _, e := range out.Transactions.Edges {
		last = e.Cursor
		if e.Node == nil {
			continue
		}
		txs = append(txs, e.Node.tx())
	}
	if out.Transactions.PageInfo.HasNextPage && len(out.Transactions.Edges) > 0 {
		if last == "" {
			return txs, "", errors.New("gateway transactions: hasNextPage without a cursor")
		}
		next = last
	}
	return txs, next, nil
}

// AllTransactions pages through every transaction matching q (pages of q.First, at most MaxPageSize) and
// calls fn once per distinct id, in gateway order. It stops at the first error, including one returned by fn.
func (c *Client) AllTransactions(ctx context.Context, q TxQuery, fn func(Tx) error) error {
	seen := make(map[string]struct{})
	cursors := make(map[string]struct{})
	for page := 0; ; page++ {
		txs, next, err := c.Transactions(ctx, q)
		if err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
		for _, tx := range txs {
			if _, dup := seen[tx.ID]; dup {
				continue
			}
			seen[tx.ID] = struct{}{}
			if err := fn(tx); err != nil {
				return err
			}
		}
		if next == "" || len(txs) == 0 {
			return nil
		}
		if _, loop := cursors[next]; loop {
			return fmt.Errorf("gateway transactions: page %d: cursor %q repeats", page, next)
		}
		cursors[next] = struct{}{}
		q.After = next
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Tx returns the transaction or data item with the given id, or an error wrapping ErrNotFound.
func (c *Client) Tx(ctx context.Context, id string) (*Tx, error) {
	if id == "" {
		return nil, fmt.Errorf("gateway tx: empty id: %w", ErrNotFound)
	}
	txs, _, err := c.Transactions(ctx, TxQuery{IDs: []string{id}, First: 1})
	if err != nil {
		return nil, fmt.Errorf("gateway tx %s: %w", id, err)
	}
	for i := range txs {
		if txs[i].ID == id {
			return &txs[i], nil
		}
	}
	return nil, fmt.Errorf("gateway tx %s: %w", id, ErrNotFound)
}

func buildTxQuery(q TxQuery) (string, map[string]any, error) {
	var decl, args []string
	vars := map[string]any{}
	add := func(name, typ string, v any) {
		decl = append(decl, "$"+name+": "+typ)
		args = append(args, name+": $"+name)
		vars[name] = v
	}
	if len(q.IDs) > 0 {
		add("ids", "[ID!]", q.IDs)
	}
	if len(q.Owners) > 0 {
		add("owners", "[String!]", q.Owners)
	}
	if len(q.Recipients) > 0 {
		add("recipients", "[String!]", q.Recipients)
	}
	if len(q.Tags) > 0 {
		tags := make([]map[string]any, len(q.Tags))
		for i, t := range q.Tags {
			if t.Name == "" {
				return "", nil, fmt.Errorf("tag filter %d has no name", i)
			}
			vals := t.Values
			if vals == nil {
				vals = []string{}
			}
			tags[i] = map[string]any{"name": t.Name, "values": vals}
		}
		add("tags", "[TagFilter!]", tags)
	}
	switch q.Sort {
	case "":
	case SortHeightAsc, SortHeightDesc:
		add("sort", "SortOrder", q.Sort)
	default:
		return "", nil, fmt.Errorf("invalid sort %q", q.Sort)
	}
	first := q.First
	if first <= 0 || first > MaxPageSize {
		first = MaxPageSize
	}
	add("first", "Int", first)
	if q.After != "" {
		add("after", "String", q.After)
	}
	query := "query aonodeTransactions(" + strings.Join(decl, ", ") + ") {\n  transactions(" + strings.Join(args, ", ") +
		") {\n    pageInfo { hasNextPage }\n    edges { cursor node { " + txFields + " } }\n  }\n}"
	return query, vars, nil
}

type txNode struct {
	ID        string `json:"id"`
	Anchor    string `json:"anchor"`
	Signature string `json:"signature"`
	Recipient string `json:"recipient"`
	Owner     *Owner `json:"owner"`
	Tags      []Tag  `json:"tags"`
	Data      *struct {
		Size flexInt `json:"size"`
		Type *string `json:"type"`
	} `json:"data"`
	Block *struct {
		ID        string  `json:"id"`
		Height    flexInt `json:"height"`
		Timestamp flexInt `json:"timestamp"`
	} `json:"block"`
	BundledIn *struct {
		ID string `json:"id"`
	} `json:"bundledIn"`
}

func (n *txNode) tx() Tx {
	tx := Tx{ID: n.ID, Anchor: n.Anchor, Signature: n.Signature, Recipient: n.Recipient, Tags: n.Tags}
	if tx.Tags == nil {
		tx.Tags = []Tag{}
	}
	if n.Owner != nil {
		tx.Owner = *n.Owner
	}
	if n.Data != nil {
		tx.DataSize = int64(n.Data.Size)
		if n.Data.Type != nil {
			tx.DataType = *n.Data.Type
		}
	}
	if n.Block != nil {
		tx.Block = &Block{ID: n.Block.ID, Height: int64(n.Block.Height), Timestamp: int64(n.Block.Timestamp)}
	}
	if n.BundledIn != nil {
		tx.BundledIn = n.BundledIn.ID
	}
	return tx
}

// flexInt decodes a JSON number or a string holding one (gateways disagree on data.size).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = 0
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*f = 0
			return nil
		}
		b = []byte(s)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(string(b), 64)
		if ferr != nil {
			return fmt.Errorf("not an integer: %q", b)
		}
		n = int64(fl)
	}
	*f = flexInt(n)
	return nil
}
