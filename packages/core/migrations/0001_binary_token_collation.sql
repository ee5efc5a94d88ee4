-- Tokens are compared byte for byte: under the database's default (case-insensitive) collation,
-- the Idempotency-Keys tok-aBcD3fGh and tok-AbCd3FgH were "equal" and the second client got the
-- first client's order. utf8mb4_bin is accepted by MySQL 8 and MariaDB 10.11 alike; the unique
-- index is rebuilt with it, and no existing rows can collide (they were unique case-insensitively).
ALTER TABLE `orders` MODIFY `idempotency_key` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;--> statement-breakpoint
ALTER TABLE `orders` MODIFY `request_hash` char(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;
