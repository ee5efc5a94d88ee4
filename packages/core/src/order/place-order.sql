-- place_order: one order in ONE database round trip (one CALL), committed server-side.
--
-- This file is the procedure as it is now. A migration applies it as written (the newest
-- migration that creates place_order is a copy of this file, checked by place-order.test.ts);
-- after a change here, `npm run db:procedure` writes the migration that applies it.
--
-- Order.place (packages/core/src/order/index.ts) owns the rule and is the only caller. It passes
-- every id, the timestamp and the OutOfStock outbox row (built by the Restock and Outbox modules),
-- so this procedure decides and writes but invents nothing. It names its arguments
-- (PLACE_ORDER_PARAMETERS in order.sql.ts, checked against this parameter list). Why a procedure
-- and not a multi-statement text: bench/README.md ("One round trip").
--
-- 1. A keyed retry gets the stored order back (the caller compares request_hash).
-- 2. Refusal fast path, taken only when the caller expects a refusal (p_refusal_likely: the
--    product's last answer in that process was out of stock; bench/README.md, "The refusal
--    hint"): a consistent read, no transaction, no lock. Not enough stock and the product's
--    restock request already open: answer out_of_stock. A refusal the caller did not expect
--    takes step 3, which refuses correctly too, under the row lock.
-- 3. Otherwise one transaction: the conditional decrement, the product row locked and read, the
--    order row; at or below the reorder point (or refused), the product's one open restock
--    request, opened here with its outbox row when there is none; COMMIT.
--
-- Any error rolls everything back before it leaves, so the connection goes back to the pool
-- with no transaction open. Local variables only (no @user variables, no SET of session state):
-- nothing here pins an RDS Proxy connection. Timestamps come from the caller (UTC), so the
-- session time zone does not matter. MySQL 8.4 and MariaDB 10.11 syntax only.
DROP PROCEDURE IF EXISTS `place_order`;
--> statement-breakpoint
CREATE PROCEDURE `place_order`(
	-- The order: what, how many, its id, the client's Idempotency-Key and request fingerprint (or NULL), when.
	IN p_sku VARCHAR(64),
	IN p_quantity INT UNSIGNED,
	IN p_order_id CHAR(26),
	IN p_idempotency_key VARCHAR(255),
	IN p_request_hash CHAR(64),
	IN p_now DATETIME(3),
	-- The restock request this order may open, as the caller last knew the product (or NULL).
	IN p_restock_id CHAR(26),
	IN p_restock_sku VARCHAR(64),
	IN p_restock_factory_id VARCHAR(32),
	IN p_restock_quantity INT UNSIGNED,
	-- That request's OutOfStock outbox row.
	IN p_outbox_id CHAR(26),
	IN p_outbox_source VARCHAR(128),
	IN p_outbox_detail_type VARCHAR(128),
	IN p_outbox_detail TEXT,
	-- The refusal hint: 1 takes step 2 first.
	IN p_refusal_likely TINYINT
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
	DECLARE v_outcome VARCHAR(16);
	DECLARE v_updated INT DEFAULT 0;
	DECLARE v_duplicate TINYINT DEFAULT 0;
	DECLARE v_opened TINYINT DEFAULT 0;
	DECLARE v_product_id BIGINT UNSIGNED;
	DECLARE v_sku VARCHAR(64);
	DECLARE v_price INT UNSIGNED;
	DECLARE v_stock INT UNSIGNED;
	DECLARE v_reorder_point INT UNSIGNED;
	DECLARE v_factory_id VARCHAR(32);
	DECLARE v_restock_quantity INT UNSIGNED;
	DECLARE v_order_id CHAR(26);
	DECLARE v_order_quantity INT UNSIGNED;
	DECLARE v_order_created_at DATETIME(3);
	DECLARE v_request_hash CHAR(64);
	DECLARE v_open_id CHAR(26);
	DECLARE v_open_status VARCHAR(16);
	DECLARE v_open_quantity INT UNSIGNED;
	-- A SELECT ... INTO that finds no row leaves its variables NULL: that is how "none" reads here.
	DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;
	-- Anything else (a duplicate Idempotency-Key, a deadlock): undo, then report it to the caller.
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	decide: BEGIN
		-- 1. A keyed retry.
		IF p_idempotency_key IS NOT NULL THEN
			SELECT `id`, `sku`, `quantity`, `unit_price`, `stock_after`, `created_at`, `request_hash`
				FROM `orders` WHERE `idempotency_key` = p_idempotency_key
				INTO v_order_id, v_sku, v_order_quantity, v_price, v_stock, v_order_created_at, v_request_hash;
			IF v_order_id IS NOT NULL THEN
				SET v_outcome = 'replayed';
				LEAVE decide;
			END IF;
		END IF;

		-- 2. The refusal fast path.
		IF p_refusal_likely THEN
			SELECT p.`stock`, r.`id`, r.`status`, r.`quantity`
				FROM `product` p JOIN `restock_request` r ON r.`open_product_id` = p.`id`
				WHERE p.`sku` = p_sku
				INTO v_stock, v_open_id, v_open_status, v_open_quantity;
			IF v_open_id IS NOT NULL AND v_stock < p_quantity THEN
				SET v_outcome = 'out_of_stock';
				LEAVE decide;
			END IF;
			SET v_stock = NULL, v_open_id = NULL, v_open_status = NULL, v_open_quantity = NULL;
		END IF;

		-- 3. The transaction.
		START TRANSACTION;
		UPDATE `product` SET `stock` = `stock` - p_quantity, `updated_at` = p_now WHERE `sku` = p_sku AND `stock` >= p_quantity;
		SET v_updated = ROW_COUNT();
		SELECT `id`, `sku`, `price`, `stock`, `reorder_point`, `factory_id`, `restock_quantity`
			FROM `product` WHERE `sku` = p_sku FOR UPDATE
			INTO v_product_id, v_sku, v_price, v_stock, v_reorder_point, v_factory_id, v_restock_quantity;
		IF v_product_id IS NULL THEN
			ROLLBACK;
			SET v_outcome = 'not_found';
			LEAVE decide;
		END IF;
		IF v_updated = 0 AND v_stock >= p_quantity THEN
			-- Stock arrived between the UPDATE and the lock; the lock is ours now.
			UPDATE `product` SET `stock` = `stock` - p_quantity, `updated_at` = p_now WHERE `id` = v_product_id;
			SET v_stock = v_stock - p_quantity, v_updated = 1;
		END IF;

		IF v_updated > 0 THEN
			INSERT INTO `orders` (`id`, `product_id`, `sku`, `quantity`, `unit_price`, `stock_after`, `idempotency_key`, `request_hash`, `created_at`)
				VALUES (p_order_id, v_product_id, v_sku, p_quantity, v_price, v_stock, p_idempotency_key, p_request_hash, p_now);
			SET v_outcome = 'confirmed';
		ELSE
			SET v_outcome = 'out_of_stock';
		END IF;

		-- Refused, or at the reorder point: the product's open restock request, opened here if none.
		IF v_outcome = 'out_of_stock' OR v_stock <= v_reorder_point THEN
			SELECT `id`, `status`, `quantity` FROM `restock_request` WHERE `open_product_id` = v_product_id
				INTO v_open_id, v_open_status, v_open_quantity;
			IF v_open_id IS NULL THEN
				IF p_restock_id IS NULL OR BINARY p_restock_sku <> BINARY v_sku
					OR p_restock_factory_id <> v_factory_id OR p_restock_quantity <> v_restock_quantity THEN
					-- The caller built the OutOfStock event for other product facts: undo; it
					-- retries with the facts returned below.
					ROLLBACK;
					SET v_outcome = 'stale';
					LEAVE decide;
				END IF;
				BEGIN
					-- The unique open_product_id index: someone not holding the product lock won.
					DECLARE CONTINUE HANDLER FOR 1062 SET v_duplicate = 1;
					INSERT INTO `restock_request` (`id`, `product_id`, `sku`, `factory_id`, `quantity`, `created_at`, `updated_at`)
						VALUES (p_restock_id, v_product_id, v_sku, v_factory_id, v_restock_quantity, p_now, p_now);
				END;
				IF v_duplicate = 1 THEN
					SELECT `id`, `status`, `quantity` FROM `restock_request` WHERE `open_product_id` = v_product_id
						INTO v_open_id, v_open_status, v_open_quantity;
				ELSE
					INSERT INTO `outbox` (`id`, `source`, `detail_type`, `detail`, `created_at`)
						VALUES (p_outbox_id, p_outbox_source, p_outbox_detail_type, p_outbox_detail, p_now);
					SET v_open_id = p_restock_id, v_open_status = 'pending', v_open_quantity = v_restock_quantity, v_opened = 1;
				END IF;
			END IF;
		END IF;
		COMMIT;
	END decide;

	-- The one row the caller reads (PlaceOrderRow in order.sql.ts).
	SELECT v_outcome AS `outcome`,
		v_order_id AS `order_id`, v_order_quantity AS `order_quantity`, v_order_created_at AS `order_created_at`, v_request_hash AS `request_hash`,
		v_sku AS `sku`, v_price AS `unit_price`, v_stock AS `stock`,
		v_factory_id AS `factory_id`, v_restock_quantity AS `restock_quantity`,
		v_open_id AS `restock_id`, v_open_status AS `restock_status`, v_open_quantity AS `restock_request_quantity`, v_opened AS `restock_opened`;
END
