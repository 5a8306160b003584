-- one row per bank statement line with the payout it settles or the order it pays (credit lines only):
-- 0 payout (revision 2, settlement.md): the normalised remark contains a payout_id of the line's currency
--   (leftmost, then longest): the line settles that payout, pays no order, and rules 1 and 2 skip it;
-- 1 remark: upper-case, keep A-Z0-9; contains an OMS order_id of the line's currency (leftmost, then longest);
-- 2 counterparty + amount: exactly one net30 order of that customer_name (trimmed 对方户名), currency and
--   order_total (± tolerance) among the orders no rule-1 line matched;
-- 3 otherwise unapplied cash. Debit lines are never matched (match_rule = 'debit').
with bank_lines as (
    select * from {{ ref('stg_payments__bank_statement_lines') }}
),

orders as (
    select order_id, payment_terms, currency, customer_name, order_total from {{ ref('int_orders_totaled') }}
),

payouts as (
    select payout_id, currency from {{ ref('int_payouts_settled') }}
),

all_credit_lines as (
    select
        bank_lines.bank_line_id,
        bank_lines.currency,
        bank_lines.credit_amount,
        trim(bank_lines.counterparty_name) as counterparty_name,
        {{ normalize_remark('bank_lines.remark') }} as remark_normalized
    from bank_lines
    where bank_lines.direction = 'credit'
),

payout_candidates as (
    -- payouts are few (one per day, method and currency): a join on position is cheap
    select
        all_credit_lines.bank_line_id,
        payouts.payout_id,
        {{ dbt.position('upper(payouts.payout_id)', 'all_credit_lines.remark_normalized') }} as match_position,
        {{ dbt.length('payouts.payout_id') }} as match_length
    from all_credit_lines
    inner join payouts
        on all_credit_lines.currency = payouts.currency
        and {{ dbt.position('upper(payouts.payout_id)', 'all_credit_lines.remark_normalized') }} > 0
),

payout_ranked as (
    select
        payout_candidates.*,
        row_number() over (
            partition by payout_candidates.bank_line_id
            order by payout_candidates.match_position, payout_candidates.match_length desc, payout_candidates.payout_id
        ) as candidate_rank
    from payout_candidates
),

payout_matches as (
    select bank_line_id, payout_id from payout_ranked where candidate_rank = 1
),

credit_lines as (
    -- the lines rules 1 and 2 look at: every credit line that settles no payout
    select all_credit_lines.*
    from all_credit_lines
    where all_credit_lines.bank_line_id not in (select bank_line_id from payout_matches)
),

order_id_lengths as (
    select distinct {{ dbt.length('orders.order_id') }} as id_length from orders
),

scan_positions as (
    -- 1..N start positions; remarks whose normalised text is longer are scanned by the fallback below
    {{ dbt.generate_series(var('bank_remark_scan_chars')) }}
),

remark_substrings as (
    -- every substring of the normalised remark that has the length of some order_id: an equi-join
    -- then finds the orders it contains (no orders x lines cross join)
    select
        credit_lines.bank_line_id,
        credit_lines.currency,
        scan_positions.generated_number as match_position,
        order_id_lengths.id_length as match_length,
        substring(credit_lines.remark_normalized, scan_positions.generated_number, order_id_lengths.id_length) as candidate_id
    from credit_lines
    inner join order_id_lengths
        on order_id_lengths.id_length <= {{ dbt.length('credit_lines.remark_normalized') }}
    inner join scan_positions
        on scan_positions.generated_number + order_id_lengths.id_length - 1 <= {{ dbt.length('credit_lines.remark_normalized') }}
),

remark_candidates as (
    select
        remark_substrings.bank_line_id,
        orders.order_id,
        remark_substrings.match_position,
        remark_substrings.match_length
    from remark_substrings
    inner join orders
        on remark_substrings.candidate_id = orders.order_id
        and remark_substrings.currency = orders.currency

    union all

    -- fallback for remarks longer than the scan window: first occurrence of each order_id in the text
    select
        credit_lines.bank_line_id,
        orders.order_id,
        {{ dbt.position('orders.order_id', 'credit_lines.remark_normalized') }} as match_position,
        {{ dbt.length('orders.order_id') }} as match_length
    from credit_lines
    inner join orders
        on credit_lines.currency = orders.currency
        and {{ dbt.position('orders.order_id', 'credit_lines.remark_normalized') }} > {{ var('bank_remark_scan_chars') }}
    where {{ dbt.length('credit_lines.remark_normalized') }} > {{ var('bank_remark_scan_chars') }}
),

remark_ranked as (
    select
        remark_candidates.*,
        row_number() over (
            partition by remark_candidates.bank_line_id
            order by remark_candidates.match_position, remark_candidates.match_length desc, remark_candidates.order_id
        ) as candidate_rank
    from remark_candidates
),

remark_matches as (
    select bank_line_id, order_id from remark_ranked where candidate_rank = 1
),

counterparty_candidates as (
    select
        credit_lines.bank_line_id,
        orders.order_id
    from credit_lines
    inner join orders
        on orders.payment_terms = 'net30'
        and trim(orders.customer_name) = credit_lines.counterparty_name
        and orders.currency = credit_lines.currency
        and abs(orders.order_total - credit_lines.credit_amount) <= {{ var('amount_tolerance') }}
    where credit_lines.bank_line_id not in (select bank_line_id from remark_matches)
        and orders.order_id not in (select order_id from remark_matches)
),

counterparty_matches as (
    select
        bank_line_id,
        min(order_id) as order_id
    from counterparty_candidates
    group by bank_line_id
    having count(*) = 1
),

final as (
    select
        bank_lines.bank_line_id,
        bank_lines.direction,
        bank_lines.currency,
        bank_lines.credit_amount,
        bank_lines.debit_amount,
        bank_lines.counterparty_name,
        bank_lines.remark,
        bank_lines.value_date,
        bank_lines.value_date_start_at,
        payout_matches.payout_id,
        coalesce(remark_matches.order_id, counterparty_matches.order_id) as order_id,
        case
            when bank_lines.direction = 'debit' then 'debit'
            when payout_matches.payout_id is not null then 'payout'
            when remark_matches.order_id is not null then 'remark'
            when counterparty_matches.order_id is not null then 'counterparty_amount'
            else 'unapplied'
        end as match_rule
    from bank_lines
    left join payout_matches
        on bank_lines.bank_line_id = payout_matches.bank_line_id
    left join remark_matches
        on bank_lines.bank_line_id = remark_matches.bank_line_id
    left join counterparty_matches
        on bank_lines.bank_line_id = counterparty_matches.bank_line_id
)

select * from final
