"""Two pages side by side: two users, or one user under two settings or optimizers."""

import dataclasses

import streamlit as st

from pagegen.app import render, views
from pagegen.app.sidebar import sidebar
from pagegen.layout import effective_rule, slider_steps, snap
from pagegen.optimizer import plain_solver_line, solver_line
from pagegen.vocabulary import OPTIMIZERS

context = sidebar("compare")
service, left = context.service, context.request

st.title("Compare")
mode = st.radio(
    "Compare", ["Two users", "Two settings"], horizontal=True, key="compare.mode", label_visibility="collapsed"
)
if mode == "Two users":
    users = [int(user) for user in service.user_ids()]
    if "compare.user" not in st.session_state:
        current = left.user_id if left.user_id in users else users[0]
        st.session_state["compare.user"] = users[(users.index(current) + 1) % len(users)]
    other = st.selectbox("Right: user", users, key="compare.user", format_func=lambda u: f"User {u}")
    right = dataclasses.replace(left, user_id=other, liked=(), genres=())
    names = (f"user {context.state.user}", f"user {other}")
else:
    settings = dict(left.settings)
    controls = st.columns(3)
    optimizer = controls[0].radio(
        "Right: optimizer", OPTIMIZERS, horizontal=True, key="compare.optimizer", format_func=str.upper
    )
    constraints = service.constraints(context.layout, settings)
    sliders = (
        (controls[1], "max_genre_share", "Right: max genre share", "compare.share"),
        (controls[2], "popularity_beta", "Right: popularity bias β", "compare.beta"),
    )
    picked = {}
    for column, setting, label, widget in sliders:
        shown = dataclasses.replace(context.layout, constraints=constraints)
        steps = slider_steps(setting, shown, catalogue_genres=service.genres())
        value = snap(setting, shown, getattr(constraints, setting), catalogue_genres=service.genres())
        picked[setting] = column.select_slider(label, steps, value, key=widget)
        column.caption(effective_rule(setting, shown, picked[setting]).describe())
    share, beta = picked["max_genre_share"], picked["popularity_beta"]
    right = dataclasses.replace(left.with_settings(max_genre_share=share, popularity_beta=beta), optimizer=optimizer)
    names = (f"{left.optimizer.upper()} · sidebar settings", f"{optimizer.upper()} · share {share:.0%}, β {beta:+.1f}")

pages = (context.page_or_stop(left), context.page_or_stop(right))
held_outs = (context.held_out, service.experiment.held_out_item(right.user_id) if right.user_id is not None else None)
differs = (views.only_on_first(pages[0], pages[1]), views.only_on_first(pages[1], pages[0]))
st.caption(
    f"{len(differs[0])} of {len(set(pages[0].item_ids))} items on the left are not on the right (outlined pink); "
    f"{len(differs[1])} the other way. Template titles."
)
table = views.metrics_table(
    {names[0]: (pages[0], held_outs[0]), names[1]: (pages[1], held_outs[1])}, service.item_share
)
st.dataframe(table, hide_index=True, width="stretch")
st.html(render.STYLE)
for column, name, page, held_out, outlined in zip(st.columns(2), names, pages, held_outs, differs, strict=True):
    with column:
        st.subheader(name)
        st.caption(plain_solver_line(page.report), help=solver_line(page.report))
        for block in render.page_html(page, held_out=held_out, highlight=outlined):
            st.html(block)
