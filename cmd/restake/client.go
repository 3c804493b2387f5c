package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/restake/restake/internal/config"
)

// client talks to a node's HTTP API.
type client struct {
	base string
	http *http.Client
}

func newClient(nodeURL string) *client {
	return &client{base: strings.TrimRight(nodeURL, "/"), http: &http.Client{Timeout: 60 * time.Second}}
}

// apiError is the API's error body.
type apiError struct {
	Name    string `json:"error"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

func (e *apiError) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

func (c *client) do(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the node at %s (%v); start one with restake node, or pass --node", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		var e apiError
		if json.Unmarshal(data, &e) == nil && e.Name != "" {
			return &e
		}
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

func (c *client) get(path string, out any) error { return c.do(http.MethodGet, path, nil, out) }

func (c *client) post(path string, body, out any) error {
	return c.do(http.MethodPost, path, body, out)
}

// nodeURL picks --node, then config.toml's client.node, then the default.
func nodeURL(g *globals, flag string) string {
	if flag != "" {
		return flag
	}
	if cfg, err := config.Load(g.home); err == nil && cfg.Client.Node != "" {
		return cfg.Client.Node
	}
	return "http://" + config.DefaultListen
}
