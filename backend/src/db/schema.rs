// Hand-kept in step with migrations/ (the same shape `diesel print-schema` gives).

diesel::table! {
    units (id) {
        id -> Integer,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Integer>,
        path -> Text,
        depth -> Integer,
        valid_from -> Nullable<Date>,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    unit_successions (id) {
        id -> Integer,
        old_unit_id -> Integer,
        new_unit_id -> Integer,
        on_date -> Date,
    }
}

diesel::table! {
    accounts (id) {
        id -> Integer,
        username -> Text,
        password_hash -> Text,
        full_name -> Text,
        unit_id -> Integer,
        role -> Text,
        active -> Bool,
        created_at -> Timestamp,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        must_change_password -> Bool,
        last_login_at -> Nullable<Timestamp>,
        previous_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        account_id -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Nullable<Timestamp>,
        address -> Nullable<Text>,
        agent -> Nullable<Text>,
    }
}

diesel::table! {
    templates (id) {
        id -> Integer,
        key -> Text,
        version -> Integer,
        title -> Text,
        source -> Text,
    }
}

diesel::table! {
    rounds (id) {
        id -> Integer,
        template_id -> Integer,
        owner_unit_id -> Integer,
        title -> Text,
        period_type -> Text,
        period_year -> Integer,
        period_index -> Integer,
        period_start -> Date,
        period_end -> Date,
        commune_deadline -> Timestamp,
        district_deadline -> Timestamp,
        status -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        orientation -> Text,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    round_tasks (id) {
        id -> Integer,
        round_id -> Integer,
        unit_id -> Integer,
        position -> Integer,
        text -> Text,
    }
}

diesel::table! {
    reports (id) {
        id -> Integer,
        round_id -> Integer,
        unit_id -> Integer,
        status -> Text,
        values_json -> Text,
        sections_json -> Text,
        version -> Integer,
        first_submitted_at -> Nullable<Timestamp>,
        submitted_at -> Nullable<Timestamp>,
        reviewed_at -> Nullable<Timestamp>,
        reviewed_by -> Nullable<Integer>,
        return_reason -> Nullable<Text>,
        updated_at -> Timestamp,
        updated_by -> Nullable<Integer>,
        included_json -> Nullable<Text>,
        prefill_json -> Nullable<Text>,
    }
}

diesel::table! {
    team_members (id) {
        id -> Integer,
        unit_id -> Integer,
        full_name -> Text,
        position -> Text,
        other_post -> Nullable<Text>,
        sex -> Text,
        birth_year -> Integer,
        education -> Text,
        theory -> Text,
        joined_on -> Date,
        left_on -> Nullable<Date>,
        version -> Integer,
        updated_at -> Timestamp,
        updated_by -> Nullable<Integer>,
    }
}

diesel::table! {
    review_events (id) {
        id -> Integer,
        report_id -> Integer,
        action -> Text,
        reason -> Nullable<Text>,
        actor_id -> Integer,
        at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Integer,
        at -> Timestamp,
        actor_id -> Nullable<Integer>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Integer>,
        unit_id -> Nullable<Integer>,
        details -> Text,
    }
}

diesel::table! {
    rollup_states (round_id, unit_id) {
        round_id -> Integer,
        unit_id -> Integer,
        accepted -> Text,
        provisional -> Text,
        completeness -> Text,
        stamp -> BigInt,
    }
}

diesel::joinable!(accounts -> units (unit_id));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(rounds -> templates (template_id));
diesel::joinable!(reports -> rounds (round_id));
diesel::joinable!(reports -> units (unit_id));
diesel::joinable!(review_events -> reports (report_id));
diesel::joinable!(round_tasks -> rounds (round_id));
diesel::joinable!(team_members -> units (unit_id));

diesel::allow_tables_to_appear_in_same_query!(
    units,
    unit_successions,
    accounts,
    sessions,
    templates,
    rounds,
    round_tasks,
    reports,
    team_members,
    review_events,
    audit_log,
    rollup_states,
);
