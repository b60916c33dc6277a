{% macro coaching_flag_mean(total, squares, trials, team_mean, team_squares, team_trials) -%}
    {#- The coaching rule for a mean (handle time) instead of a rate: the agent's mean (total / trials) is more
        than var('coaching_rate_gap') (relative) above the team's, rests on at least var('coaching_min_sample')
        contacts, and the difference exceeds var('coaching_confidence_z') standard errors (Welch's z on the sums
        and sums of squares). The same gap, sample and confidence as coaching_flag. -#}
    {%- set mean = 'cast(' ~ total ~ ' as ' ~ type_double() ~ ') / ' ~ trials -%}
    {%- set var_agent = '(cast(' ~ squares ~ ' as ' ~ type_double() ~ ') / ' ~ trials
        ~ ' - (' ~ mean ~ ') * (' ~ mean ~ '))' -%}
    {%- set var_team = '(cast(' ~ team_squares ~ ' as ' ~ type_double() ~ ') / ' ~ team_trials
        ~ ' - ' ~ team_mean ~ ' * ' ~ team_mean ~ ')' -%}
    coalesce(
        {{ trials }} >= {{ var('coaching_min_sample') }}
        and {{ mean }} > {{ team_mean }} * (1 + {{ var('coaching_rate_gap') }})
        and {{ mean }} - {{ team_mean }} > {{ var('coaching_confidence_z') }} * sqrt(
            greatest({{ var_agent }}, 0) / {{ trials }} + greatest({{ var_team }}, 0) / {{ team_trials }}
        ),
        false
    )
{%- endmacro %}
