package embedded

import (
	"context"
	"fmt"
	"strconv"

	graphql "github.com/graph-gophers/graphql-go"
	"go.etcd.io/bbolt"
)

// schema is the standard Arweave gateway GraphQL schema (as served by arweave.net / ar.io / arlocal), plus
// TagOperator.NEQ (arlocal, Goldsky).
const schema = `
schema { query: Query }

type Query {
  transaction(id: ID!): Transaction
  transactions(
    ids: [ID!]
    owners: [String!]
    recipients: [String!]
    tags: [TagFilter!]
    bundledIn: [ID!]
    block: BlockFilter
    first: Int = 10
    after: String
    sort: SortOrder = HEIGHT_DESC
    parent: [ID!] @deprecated(reason: "Use bundledIn")
  ): TransactionConnection!
  block(id: String): Block
  blocks(
    ids: [ID!]
    height: BlockFilter
    first: Int = 10
    after: String
    sort: SortOrder = HEIGHT_DESC
  ): BlockConnection!
}

enum SortOrder { HEIGHT_ASC HEIGHT_DESC }
enum TagOperator { EQ NEQ }

input TagFilter {
  name: String!
  values: [String!]!
  op: TagOperator = EQ
}

input BlockFilter {
  min: Int
  max: Int
}

type PageInfo { hasNextPage: Boolean! }

type TransactionConnection {
  pageInfo: PageInfo!
  edges: [TransactionEdge!]!
}

type TransactionEdge {
  cursor: String!
  node: Transaction!
}

type BlockConnection {
  pageInfo: PageInfo!
  edges: [BlockEdge!]!
}

type BlockEdge {
  cursor: String!
  node: Block!
}

type Transaction {
  id: ID!
  anchor: String!
  signature: String!
  recipient: String!
  owner: Owner!
  fee: Amount!
  quantity: Amount!
  data: MetaData!
  tags: [Tag!]!
  block: Block
  parent: Parent @deprecated(reason: "Use bundledIn")
  bundledIn: Bundle
}

type Parent { id: ID! }
type Bundle { id: ID! }

type Block {
  id: ID!
  timestamp: Int!
  height: Int!
  previous: ID!
}

type MetaData {
  size: String!
  type: String
}

type Amount {
  winston: String!
  ar: String!
}

type Owner {
  address: String!
  key: String!
}

type Tag {
  name: String!
  value: String!
}
`

const maxPage = 100

type gqlRoot struct{ g *Gateway }

func (g *Gateway) newSchema() (*graphql.Schema, error) {
	return graphql.ParseSchema(schema, &gqlRoot{g},
		graphql.MaxDepth(12),
		graphql.MaxQueryLength(256<<10),
		graphql.MaxParallelism(8),
	)
}

type tagFilterInput struct {
	Name   string
	Values []string
	Op     string
}

type blockFilterInput struct {
	Min *int32
	Max *int32
}

type txArgs struct {
	IDs        *[]graphql.ID
	Owners     *[]string
	Recipients *[]string
	Tags       *[]tagFilterInput
	BundledIn  *[]graphql.ID
	Block      *blockFilterInput
	First      int32
	After      *string
	Sort       string
	Parent     *[]graphql.ID
}

func ids(in *[]graphql.ID) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(*in))
	for i, v := range *in {
		out[i] = string(v)
	}
	return out
}

func pageSize(first int32) (int, error) {
	n := int(first)
	if n < 0 {
		return 0, fmt.Errorf("first must not be negative")
	}
	return min(n, maxPage), nil
}

// emptyFilter marks a filter list given as [] (matches nothing), as opposed to an absent one.
func emptyList[T any](p *[]T) bool { return p != nil && len(*p) == 0 }

func (r *gqlRoot) Transaction(ctx context.Context, args struct{ ID graphql.ID }) (*txResolver, error) {
	var out *txResolver
	err := r.g.db.View(func(tx *bbolt.Tx) error {
		rec, err := getRecord(tx, string(args.ID))
		if err != nil || rec == nil {
			return err
		}
		blocks := map[int64]*blockRec{}
		out, err = newTxResolver(tx, rec, blocks)
		return err
	})
	return out, err
}

func (r *gqlRoot) Transactions(ctx context.Context, args txArgs) (*txConnResolver, error) {
	f := &txFilter{desc: args.Sort != "HEIGHT_ASC"}
	var err error
	if f.first, err = pageSize(args.First); err != nil {
		return nil, err
	}
	if args.After != nil && *args.After != "" {
		if f.after, err = decodeCursor(*args.After); err != nil {
			return nil, err
		}
	}
	empty := emptyList(args.IDs) || emptyList(args.Owners) || emptyList(args.Recipients) ||
		emptyList(args.BundledIn) || emptyList(args.Parent)
	f.ids = ids(args.IDs)
	if args.Owners != nil {
		for _, o := range *args.Owners {
			f.owners = append(f.owners, ownerToAddress(o))
		}
	}
	if args.Recipients != nil {
		f.recipients = *args.Recipients
	}
	f.bundledIn = append(ids(args.BundledIn), ids(args.Parent)...)
	if args.Tags != nil {
		for _, t := range *args.Tags {
			c := tagCond{name: []byte(t.Name), neq: t.Op == "NEQ"}
			for _, v := range t.Values {
				c.values = append(c.values, []byte(v))
			}
			if !c.neq && len(c.values) == 0 {
				empty = true
			}
			f.tags = append(f.tags, c)
		}
	}
	if args.Block != nil {
		if args.Block.Min != nil {
			v := int64(*args.Block.Min)
			f.minHeight = &v
		}
		if args.Block.Max != nil {
			v := int64(*args.Block.Max)
			f.maxHeight = &v
		}
	}
	conn := &txConnResolver{}
	if empty {
		return conn, nil
	}
	err = r.g.db.View(func(tx *bbolt.Tx) error {
		recs, more, err := queryTxs(tx, f)
		if err != nil {
			return err
		}
		conn.more = more
		blocks := map[int64]*blockRec{}
		for _, rec := range recs {
			tr, err := newTxResolver(tx, rec, blocks)
			if err != nil {
				return err
			}
			conn.edges = append(conn.edges, &txEdgeResolver{cursor: encodeCursor(rec.orderKey()), node: tr})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return conn, nil
}

func (r *gqlRoot) Block(ctx context.Context, args struct{ ID *string }) (*blockResolver, error) {
	var out *blockResolver
	err := r.g.db.View(func(tx *bbolt.Tx) error {
		var b *blockRec
		var err error
		if args.ID == nil {
			b, err = getBlock(tx, currentHeight(tx))
		} else {
			b, err = getBlockByID(tx, *args.ID)
		}
		if b != nil {
			out = &blockResolver{b}
		}
		return err
	})
	return out, err
}

type blocksArgs struct {
	IDs    *[]graphql.ID
	Height *blockFilterInput
	First  int32
	After  *string
	Sort   string
}

func (r *gqlRoot) Blocks(ctx context.Context, args blocksArgs) (*blockConnResolver, error) {
	f := &blockFilter{desc: args.Sort != "HEIGHT_ASC", ids: ids(args.IDs)}
	var err error
	if f.first, err = pageSize(args.First); err != nil {
		return nil, err
	}
	if args.After != nil && *args.After != "" {
		h, err := decodeBlockCursor(*args.After)
		if err != nil {
			return nil, err
		}
		f.after = &h
	}
	if args.Height != nil {
		if args.Height.Min != nil {
			v := int64(*args.Height.Min)
			f.minHeight = &v
		}
		if args.Height.Max != nil {
			v := int64(*args.Height.Max)
			f.maxHeight = &v
		}
	}
	conn := &blockConnResolver{}
	if emptyList(args.IDs) {
		return conn, nil
	}
	err = r.g.db.View(func(tx *bbolt.Tx) error {
		bs, more, err := queryBlocks(tx, f)
		if err != nil {
			return err
		}
		conn.more = more
		for _, b := range bs {
			conn.edges = append(conn.edges, &blockEdgeResolver{cursor: encodeBlockCursor(b.Height), node: &blockResolver{b}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// --- resolvers ---

type pageInfoResolver struct{ more bool }

func (p *pageInfoResolver) HasNextPage() bool { return p.more }

type txConnResolver struct {
	more  bool
	edges []*txEdgeResolver
}

func (c *txConnResolver) PageInfo() *pageInfoResolver { return &pageInfoResolver{c.more} }
func (c *txConnResolver) Edges() []*txEdgeResolver {
	if c.edges == nil {
		return []*txEdgeResolver{}
	}
	return c.edges
}

type txEdgeResolver struct {
	cursor string
	node   *txResolver
}

func (e *txEdgeResolver) Cursor() string    { return e.cursor }
func (e *txEdgeResolver) Node() *txResolver { return e.node }

type txResolver struct {
	rec   *record
	block *blockRec
}

func newTxResolver(tx *bbolt.Tx, rec *record, cache map[int64]*blockRec) (*txResolver, error) {
	t := &txResolver{rec: rec}
	if !rec.pending() {
		b, ok := cache[rec.Height]
		if !ok {
			var err error
			if b, err = getBlock(tx, rec.Height); err != nil {
				return nil, err
			}
			cache[rec.Height] = b
		}
		t.block = b
	}
	return t, nil
}

func (t *txResolver) ID() graphql.ID    { return graphql.ID(t.rec.ID) }
func (t *txResolver) Anchor() string    { return t.rec.Anchor }
func (t *txResolver) Signature() string { return t.rec.Signature }
func (t *txResolver) Recipient() string { return t.rec.Target }
func (t *txResolver) Owner() *ownerResolver {
	return &ownerResolver{address: t.rec.OwnerAddr, key: t.rec.Owner}
}
func (t *txResolver) Fee() *amountResolver      { return &amountResolver{t.rec.Reward} }
func (t *txResolver) Quantity() *amountResolver { return &amountResolver{t.rec.Quantity} }
func (t *txResolver) Data() *metaResolver       { return &metaResolver{t.rec} }
func (t *txResolver) Tags() []*tagResolver {
	out := make([]*tagResolver, len(t.rec.Tags))
	for i, tg := range t.rec.Tags {
		out[i] = &tagResolver{name: string(tg.N), value: string(tg.V)}
	}
	return out
}
func (t *txResolver) Block() *blockResolver {
	if t.block == nil {
		return nil
	}
	return &blockResolver{t.block}
}
func (t *txResolver) Parent() *idResolver {
	if t.rec.BundledIn == "" {
		return nil
	}
	return &idResolver{t.rec.BundledIn}
}
func (t *txResolver) BundledIn() *idResolver { return t.Parent() }

type idResolver struct{ id string }

func (i *idResolver) ID() graphql.ID { return graphql.ID(i.id) }

type ownerResolver struct{ address, key string }

func (o *ownerResolver) Address() string { return o.address }
func (o *ownerResolver) Key() string     { return o.key }

type amountResolver struct{ winston string }

func (a *amountResolver) Winston() string {
	if a.winston == "" {
		return "0"
	}
	return a.winston
}
func (a *amountResolver) Ar() string { return winstonToAR(a.winston) }

type metaResolver struct{ rec *record }

func (m *metaResolver) Size() string { return strconv.FormatInt(m.rec.DataSize, 10) }
func (m *metaResolver) Type() *string {
	if v, ok := m.rec.tagFold("Content-Type"); ok {
		return &v
	}
	return nil
}

type tagResolver struct{ name, value string }

func (t *tagResolver) Name() string  { return t.name }
func (t *tagResolver) Value() string { return t.value }

type blockResolver struct{ b *blockRec }

func (b *blockResolver) ID() graphql.ID       { return graphql.ID(b.b.ID) }
func (b *blockResolver) Timestamp() int32     { return int32(b.b.Timestamp) }
func (b *blockResolver) Height() int32        { return int32(b.b.Height) }
func (b *blockResolver) Previous() graphql.ID { return graphql.ID(b.b.Previous) }

type blockConnResolver struct {
	more  bool
	edges []*blockEdgeResolver
}

func (c *blockConnResolver) PageInfo() *pageInfoResolver { return &pageInfoResolver{c.more} }
func (c *blockConnResolver) Edges() []*blockEdgeResolver {
	if c.edges == nil {
		return []*blockEdgeResolver{}
	}
	return c.edges
}

type blockEdgeResolver struct {
	cursor string
	node   *blockResolver
}

func (e *blockEdgeResolver) Cursor() string       { return e.cursor }
func (e *blockEdgeResolver) Node() *blockResolver { return e.node }
