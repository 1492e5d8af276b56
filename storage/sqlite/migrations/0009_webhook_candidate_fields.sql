-- Webhook triggers now declare the candidate fields they receive
-- (ats.v1.WebhookAction.candidate_fields), and one that lists none receives
-- only the candidate's resource name. Those stored before received every
-- field; they keep receiving them, now explicitly: each gets the full list
-- of the fields that existed then. The functions are C++ (see
-- migration_functions.h): the triggers are serialized protos.

-- Job stages' triggers: webhook and add_tag triggers have no integration.
UPDATE stage_triggers SET spec = webhook_trigger_all_fields(spec)
  WHERE integration_id IS NULL;

-- Job templates' stages, one document each. A template whose triggers
-- changed gets a new revision, so that an edit prepared from what it was
-- before fails its etag check rather than silently dropping the list.
UPDATE job_templates
  SET stages = template_webhooks_all_fields(stages), revision = revision + 1
  WHERE template_webhooks_all_fields(stages) != stages;
