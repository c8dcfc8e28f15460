package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/facematch/facematch/internal/fetch"
)

func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "image bytes")
	}))
	defer srv.Close()

	// By default a loopback destination is refused at dial time.
	_, err := fetch.New(fetch.Config{}).Get(context.Background(), srv.URL)
	fmt.Println(errors.Is(err, fetch.ErrForbiddenURL))

	// Tests (and services that mean it) can allow private destinations.
	b, err := fetch.New(fetch.Config{AllowPrivate: true}).Get(context.Background(), srv.URL)
	fmt.Printf("%q %v\n", b, err)
	// Output:
	// true
	// "image bytes" <nil>
}
