package auth

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/geocommuns/geocommuns/storage"
)

// ServerSecret returns the dataset's 32-byte secret called name, made on
// first use: the first process to ask stores its random candidate, and
// every process serving the dataset then reads that one, so what one
// signs the others accept.
func ServerSecret(ctx context.Context, accounts storage.Accounts, name string) ([]byte, error) {
	candidate := make([]byte, 32)
	if _, err := rand.Read(candidate); err != nil {
		return nil, fmt.Errorf("server secret %s: %w", name, err)
	}
	secret, err := accounts.ServerSecret(ctx, name, candidate)
	if err != nil {
		return nil, fmt.Errorf("server secret %s: %w", name, err)
	}
	return secret, nil
}
