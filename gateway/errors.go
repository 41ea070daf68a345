package gateway

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned (wrapped) when the gateway does not know the requested transaction or data.
var ErrNotFound = errors.New("not found")

// HTTPError is a non-2xx answer from the gateway.
type HTTPError struct {
	Method     string
	URL        string
	StatusCode int
	Body       string // the first bytes of the body

	notFound bool
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.StatusCode, strings.TrimSpace(e.Body))
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *HTTPError) Is(target error) bool { return target == ErrNotFound && e.notFound }

// GraphQLError is one entry of a GraphQL response's "errors" member.
type GraphQLError struct {
	Message string `json:"message"`
	Path    []any  `json:"path,omitempty"`
}

// GraphQLErrors is returned (wrapped) when a GraphQL response carries errors.
type GraphQLErrors struct {
	Errors []GraphQLError
}

func (e *GraphQLErrors) Error() string {
	msgs := make([]string, 0, len(e.Errors))
	for _, x := range e.Errors {
		m := x.Message
		if len(x.Path) > 0 {
			m += fmt.Sprintf(" (path %v)", x.Path)
		}
		msgs = append(msgs, m)
	}
	return "graphql errors: " + strings.Join(msgs, "; ")
}
