-- Base tables of the blog example: a migration of your own, which `fraiseql migrate` applies once, before
-- the generated objects (build/sql/*.sql). Once applied, never edit it: add 0002_….sql.
CREATE EXTENSION IF NOT EXISTS pgcrypto;  -- bcrypt for the demo passwords below (fn_login uses it too)
CREATE TABLE IF NOT EXISTS public.tb_user (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    password_hash text,
    scopes text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.tb_post (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id uuid NOT NULL REFERENCES public.tb_user (id),
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    published boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tb_post_author_id_idx ON public.tb_post (author_id);

CREATE TABLE IF NOT EXISTS public.tb_comment (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id uuid NOT NULL REFERENCES public.tb_post (id) ON DELETE CASCADE,
    author_id uuid NOT NULL REFERENCES public.tb_user (id),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tb_comment_post_id_idx ON public.tb_comment (post_id);

-- Hand-written read model behind the `reports` query.
CREATE OR REPLACE VIEW public.v_report WITH (security_invoker = true) AS
SELECT
    u.id AS author_id,
    u.name AS author_name,
    count(p.id)::integer AS post_count,
    jsonb_build_object('authorId', u.id, 'authorName', u.name, 'postCount', count(p.id)::integer) AS data
FROM public.tb_user AS u
LEFT JOIN public.tb_post AS p ON p.author_id = u.id
GROUP BY u.id, u.name;

-- Seed data so the views return rows.
-- Demo credentials: alice@example.com / alice-password, bob@example.com / bob-password.
INSERT INTO public.tb_user (id, email, name, scopes, password_hash) VALUES
    ('00000000-0000-0000-0000-00000000000a', 'alice@example.com', 'Alice', '{read:posts,write:posts}',
     crypt('alice-password', gen_salt('bf', 8))),
    ('00000000-0000-0000-0000-00000000000b', 'bob@example.com', 'Bob', '{read:posts}',
     crypt('bob-password', gen_salt('bf', 8)))
ON CONFLICT (id) DO NOTHING;
INSERT INTO public.tb_post (id, author_id, title, body, published) VALUES
    ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-00000000000a', 'Hello', 'First post', true),
    ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000000b', 'Bob here', 'Draft', false)
ON CONFLICT (id) DO NOTHING;
INSERT INTO public.tb_comment (post_id, author_id, body)
SELECT '00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-00000000000b', 'Nice post'
WHERE NOT EXISTS (SELECT 1 FROM public.tb_comment);

-- The SQL functions behind the mutations: fn_<name>(caller id, arguments as jsonb); see docs/functions.md.
-- They run as the caller (SECURITY INVOKER), so row-level security and the column grants decide what they
-- may write. The generated SQL lets only the roles that can pass a mutation's guards execute its function,
-- but a scope is a claim, not a role: a function whose effect needs a scope that the table's policies do
-- not already require checks it itself, or an API role could call it directly and skip api.<mutation>.
CREATE OR REPLACE FUNCTION public.fn_create_post(caller_id text, args jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    new_id uuid;
BEGIN
    INSERT INTO public.tb_post (author_id, title, body, published)
    VALUES (
        caller_id::uuid,
        args -> 'input' ->> 'title',
        COALESCE(args -> 'input' ->> 'body', ''),
        COALESCE((args -> 'input' ->> 'published')::boolean, false)
    )
    RETURNING id INTO new_id;
    RETURN (SELECT v.data FROM public.v_post AS v WHERE v.id = new_id);
END
$fn$;

CREATE OR REPLACE FUNCTION public.fn_delete_post(caller_id text, args jsonb)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM fraiseql.require_scope('admin:posts');  -- the delete policy also lets authors delete their own
    DELETE FROM public.tb_post WHERE id = (args ->> 'id')::uuid;
    IF NOT FOUND THEN  -- missing, or hidden from the caller by row-level security: the same answer
        RAISE EXCEPTION 'no post %', args ->> 'id' USING ERRCODE = 'PT404';
    END IF;
    RETURN true;
END
$fn$;

CREATE OR REPLACE FUNCTION public.fn_ingest_data(caller_id text, args jsonb)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM fraiseql.require_scope('write:data');  -- no policy speaks for this one: check the scope here
    RETURN pg_catalog.jsonb_array_length(args -> 'payload' -> 'rows') >= 0;
END
$fn$;
