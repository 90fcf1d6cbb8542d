-- API tokens that expire (geocommuns token create --expires): when the
-- token stops working; NULL for one that works until revoked, as every
-- token made before.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN expires_at;
