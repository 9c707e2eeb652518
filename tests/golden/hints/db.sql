CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE app.tb_customer (id uuid PRIMARY KEY, name text NOT NULL, external_id uuid);
CREATE TABLE public.tb_order (
    id uuid PRIMARY KEY, date date NOT NULL, status text NOT NULL, total numeric NOT NULL, note text,
    customer_id uuid NOT NULL REFERENCES app.tb_customer (id), queue_position integer NOT NULL,
    meta jsonb, legacy_code text
);
CREATE TABLE public.tb_order_line (
    id uuid PRIMARY KEY, order_id uuid NOT NULL REFERENCES public.tb_order (id), quantity integer NOT NULL,
    price double precision NOT NULL
);
INSERT INTO app.tb_customer VALUES ('00000000-0000-0000-0000-0000000000c1', 'ACME', NULL);
INSERT INTO public.tb_order VALUES ('00000000-0000-0000-0000-0000000000d1', '2026-01-02', 'open', 12.50, NULL,
    '00000000-0000-0000-0000-0000000000c1', 1, '{"gift": true}', 'L-1');
INSERT INTO public.tb_order_line VALUES ('00000000-0000-0000-0000-0000000000e1', '00000000-0000-0000-0000-0000000000d1', 2, 6.25);
CREATE FUNCTION app.fn_ship_order(caller_id text, args jsonb) RETURNS jsonb LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.jsonb_build_object('id', args ->> 'id') $$;
