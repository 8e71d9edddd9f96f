"""Charts of the current page and of saved evaluations: genre mix, per-row quality, the diversity
trade-off, optimizers over all users, the product scenarios, and the generators' ranking quality."""

import streamlit as st

from pagegen.app import caches, views
from pagegen.app.sidebar import sidebar
from pagegen.batch.summary import format_export_summary
from pagegen.evaluation.pages import load_pages
from pagegen.evaluation.protocol import load_evaluation
from pagegen.evaluation.reports import REPORTS
from pagegen.evaluation.scenarios import format_scenarios, load_scenarios

context = sidebar("insights")
service, request = context.service, context.request

st.title("Insights")
page = context.page_or_stop()

left, right = st.columns(2)
with left:
    st.subheader("Genre mix: page vs history")
    history = service.recent(request.user_id, liked=context.state.liked, count=10_000)
    st.altair_chart(views.genre_mix_chart(views.genre_mix(page, history)), width="stretch")
with right:
    st.subheader("Per row: relevance and diversity")
    st.altair_chart(views.row_stats_chart(views.row_stats(page)))

st.subheader("Trade-off: relevance vs diversity as the diversity slider moves")
settings = dict(request.settings)
current = service.constraints(context.layout, settings).max_genre_share
with st.spinner("Solving the page at each setting (cached afterwards)…"):
    sweep = views.diversity_sweep(
        lambda share: context.page(request.with_settings(max_genre_share=share)), current, service.item_share
    )
st.altair_chart(views.sweep_chart(sweep), width="stretch")
st.caption("Each point is this user's page at one max-genre-share value; the filled point is the current setting.")

st.subheader("Optimizers over all users")
pages_report = load_pages(service.data_dir, service.name)
if pages_report is None:
    st.info(f"No saved page evaluation for {service.name}: run `{REPORTS['pages']} --dataset {service.name}`.")
else:
    st.caption(f"{pages_report.users} users · layout {pages_report.layout} · from `{REPORTS['pages']}`")
    table = views.optimizer_table(pages_report)
    st.altair_chart(views.optimizer_chart(table))
    st.dataframe(table, hide_index=True)
    if any(r.optimizer == "ilp" for r in pages_report.optimizers):
        st.markdown("**Is the page's promise kept?** Expected good picks seen, predicted against observed")
        st.altair_chart(views.reliability_chart(views.reliability_table(pages_report)), width="stretch")
        ilp = pages_report.result("ilp")
        st.caption(
            f"Users in groups of equal size by what their ILP page predicts. Over all users: predicted "
            f"{ilp.expected_good_picks:.3f}, observed {ilp.carousel_ndcg:.3f} (the held-out next item's chance "
            "of being looked at under the browsing model). Points on the dashed line: the promise is kept."
        )

st.subheader("Every user's page (export)")
summary = caches.newest_export_summary(service.name, str(service.data_dir))
if summary is None:
    st.info(
        f"No export of {service.name}: run `pagegen pages export --dataset {service.name}` to build every user's page."
    )
else:
    st.caption(format_export_summary(summary).splitlines()[0])
    hit, coverage, gini, relaxed = st.columns(4)
    hit.metric("Hit rate", f"{summary.hit_rate:.3f}", help="pages showing the item the user watched next")
    coverage.metric("Catalogue coverage", f"{summary.catalogue_coverage:.1%}")
    gini.metric("Exposure Gini", f"{summary.exposure_gini:.3f}", help="0: every item shown as often; 1: one item")
    relaxed.metric("Pages relaxing a rule", summary.pages_relaxing_a_rule)
    st.altair_chart(views.genres_covered_chart(summary), width="stretch")
    with st.expander("The whole summary (`pagegen pages summary`)"):
        st.code(format_export_summary(summary), language=None)

st.subheader("Product scenarios")
scenarios = load_scenarios(service.data_dir, service.name)
if scenarios is None:
    st.info(f"No saved scenario benchmark for {service.name}: run `{REPORTS['scenarios']} --dataset {service.name}`.")
else:
    st.caption(f"{scenarios.users} users · each scenario's layout and settings · from `{REPORTS['scenarios']}`")
    st.dataframe(views.scenario_table(scenarios), hide_index=True)
    with st.expander("Rules relaxed, ILP against greedy (the command's text)"):
        st.code(format_scenarios(scenarios), language=None)

st.subheader("Candidate generators")
generators_report = load_evaluation(service.data_dir, service.name)
if generators_report is None:
    st.info(
        f"No saved generator evaluation for {service.name}: run `{REPORTS['generators']} --dataset {service.name}`."
    )
else:
    st.dataframe(views.generator_table(generators_report), hide_index=True)
